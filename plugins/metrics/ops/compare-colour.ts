import { createTable, defineOperation, FocalError, planeIndex, type Stack, z } from '../../../core/index.js';
import { cropBorder } from '../../../core/imaging.js';
import { cbcrHistograms, ycbcrDifference, type RgbPlanes } from '../colour.js';

/** Full-intensity value of a pixel type: 255 (uint8), 65535 (uint16), 1 (float32, assumed in [0, 1]). */
function maxValueOf(stack: Stack): number {
  return stack.dtype === 'uint8' ? 255 : stack.dtype === 'uint16' ? 65535 : 1;
}

function rgbPlanes(stack: Stack, port: string, borderPx: number): { planes: RgbPlanes; width: number; height: number } {
  if (stack.sizeC !== 3 || stack.sizeZ !== 1 || stack.sizeT !== 1) {
    throw new FocalError('E_PORT', `${port} must be one RGB image (3 channels, 1 z, 1 t), got c=${stack.sizeC}, z=${stack.sizeZ}, t=${stack.sizeT}`, { field: port });
  }
  const planes = [0, 1, 2].map((c) => {
    const p = stack.planes[planeIndex(stack, c, 0, 0)];
    for (let i = 0; i < p.length; i++) {
      if (Number.isNaN(p[i])) throw new FocalError('E_PORT', `${port} has NaN pixels (channel ${c}, x=${i % stack.width}, y=${Math.floor(i / stack.width)})`, { field: port });
    }
    return cropBorder(p, stack.width, stack.height, borderPx);
  });
  return { planes: [planes[0].data, planes[1].data, planes[2].data], width: planes[0].width, height: planes[0].height };
}

export const compareColourParams = z.strictObject({
  range: z.enum(['studio', 'full']).default('studio').describe("YCbCr variant (ITU-R BT.601): 'studio' = MATLAB/scikit-image rgb2ycbcr (Y 16–235, Cb/Cr 16–240), 'full' = JPEG full range"),
  bins: z.number().int().min(1).max(4096).default(256).describe('Number of Cb/Cr histogram bins over [0, 256) on the 8-bit scale'),
  borderPx: z.number().int().min(0).max(65536).default(0).describe('Pixels excluded at each edge, px'),
});

export const compareColour = defineOperation({
  id: 'metrics.compare-colour',
  title: 'Compare colour (YCbCr)',
  description:
    'Mean absolute Y, Cb and Cr differences between an RGB image and its RGB reference, and both images\' Cb/Cr histograms (as in the virtual-staining paper). uint8 = 0–255, uint16 = 0–65535, float32 = 0–1.',
  inputs: {
    image: { type: 'stack', description: 'RGB image (3 channels) to evaluate' },
    reference: { type: 'stack', description: 'RGB reference of the same size' },
  },
  outputs: {
    differences: { type: 'table', description: 'One row: y, cb, cr — mean absolute differences on the 8-bit YCbCr scale' },
    histograms: { type: 'table', description: 'One row per bin: binStart, cbImage, crImage, cbReference, crReference (pixel counts)' },
  },
  params: compareColourParams,
  run(ctx, { image, reference }, params) {
    if (image.width !== reference.width || image.height !== reference.height) {
      throw new FocalError('E_PORT', `image is ${image.width}×${image.height} px but reference is ${reference.width}×${reference.height} px; they must be the same size`, { field: 'image' });
    }
    const borderPx = params.borderPx ?? 0;
    if (2 * borderPx >= Math.min(image.width, image.height)) {
      throw new FocalError('E_PARAMS', `borderPx: ${borderPx} leaves nothing of a ${image.width}×${image.height} image`, { field: 'borderPx' });
    }
    const a = rgbPlanes(image, 'image', borderPx);
    const b = rgbPlanes(reference, 'reference', borderPx);
    const range = params.range ?? 'studio';
    const bins = params.bins ?? 256;
    const ma = maxValueOf(image);
    const mb = maxValueOf(reference);
    if (ma !== mb) ctx.log.warn(`image is ${image.dtype} and reference is ${reference.dtype}; each is scaled by its own full range (${ma}, ${mb})`);
    // the reference on the image's scale, so one conversion serves both
    const bScaled = (ma === mb ? b.planes : b.planes.map((p) => Float64Array.from(p, (v) => (v * ma) / mb))) as RgbPlanes;
    const d = ycbcrDifference(a.planes, bScaled, { range, maxValue: ma });
    const hi = cbcrHistograms(a.planes, { range, bins, maxValue: ma });
    const hr = cbcrHistograms(b.planes, { range, bins, maxValue: mb });
    const rows = Array.from(hi.binStart, (start, i) => ({ binStart: start, cbImage: hi.cb[i], crImage: hi.cr[i], cbReference: hr.cb[i], crReference: hr.cr[i] }));
    ctx.progress(1);
    return {
      differences: createTable(['y', 'cb', 'cr'], [d]),
      histograms: createTable(['binStart', 'cbImage', 'crImage', 'cbReference', 'crReference'], rows),
    };
  },
});
