/**
 * Built-in plugin `stack`: hyperstack manipulation (projection, substack, crop, pixel type), and
 * the readers of Micro-Manager NDTiff and img_* dataset folders and of OME-Zarr images (code in core/io/ndtiff.ts,
 * core/io/mm-img-folder.ts, core/io/ome-zarr.ts).
 */
import { definePlugin, openOmeZarr, readMmImgFolder, readNdTiffDataset, readOmeZarr } from '../../core/index.js';
import { convert } from './ops/convert.js';
import { crop } from './ops/crop.js';
import { project } from './ops/project.js';
import { substack } from './ops/substack.js';

export const stackPlugin = definePlugin({
  id: 'stack',
  version: '0.1.0',
  description: 'Hyperstack manipulation: projections along z/c/t, substacks, cropping and pixel-type conversion; readers of NDTiff, Micro-Manager image folders and OME-Zarr images.',
  readers: [
    {
      id: 'ndtiff',
      description: 'Micro-Manager NDTiff dataset folder (the one holding NDTiff.index): channels × z of every time point, one stage position',
      folder: { contains: ['NDTiff.index'] },
      open: readNdTiffDataset,
    },
    {
      id: 'micromanager-img',
      description: 'Micro-Manager img_* folder (img_channel<C>_position<P>_time<T>_z<Z>.tif planes, metadata.txt), one stage position',
      folder: { contains: ['img_channel*_position*_time*_z*.tif*'] },
      open: readMmImgFolder,
    },
    {
      id: 'ome-zarr',
      description: 'OME-Zarr image folder, Zarr v3 / OME-NGFF 0.5 (zarr.json): the full-resolution level; levels and chunks lazily for info and convert',
      folder: { contains: ['zarr.json'] },
      open: (path, options) => readOmeZarr(path, { onWarning: options?.onWarning, signal: options?.signal }),
      openLazy: (path, options) => openOmeZarr(path, { onWarning: options?.onWarning }),
    },
    {
      id: 'ome-zarr-v2',
      description: 'OME-Zarr image folder, Zarr v2 / OME-NGFF 0.4 and earlier, bioformats2raw layout (.zattrs): the full-resolution level; levels and chunks lazily for info and convert',
      folder: { contains: ['.zattrs'] },
      open: (path, options) => readOmeZarr(path, { onWarning: options?.onWarning, signal: options?.signal }),
      openLazy: (path, options) => openOmeZarr(path, { onWarning: options?.onWarning }),
    },
  ],
  sampleData: [{ id: 'cells-zstack', path: 'samples/cells-zstack.tif', description: 'Two-channel fluorescence z-stack of nuclei and cells' }],
  operations: [project, substack, crop, convert],
});

export default stackPlugin;
