/**
 * Built-in plugin `stack`: hyperstack manipulation (projection, substack, crop, pixel type), and
 * the readers of Micro-Manager NDTiff and img_* dataset folders (code in core/io/ndtiff.ts, core/io/mm-img-folder.ts).
 */
import { definePlugin, readMmImgFolder, readNdTiffDataset } from '../../core/index.js';
import { convert } from './ops/convert.js';
import { crop } from './ops/crop.js';
import { project } from './ops/project.js';
import { substack } from './ops/substack.js';

export const stackPlugin = definePlugin({
  id: 'stack',
  version: '0.1.0',
  description: 'Hyperstack manipulation: projections along z/c/t, substacks, cropping and pixel-type conversion.',
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
  ],
  sampleData: [{ id: 'cells-zstack', path: 'samples/cells-zstack.tif', description: 'Two-channel fluorescence z-stack of nuclei and cells' }],
  operations: [project, substack, crop, convert],
});

export default stackPlugin;
