import { FocalError, createImage, defineOperation, planeIndex, throwIfAborted, withPlanes, z, type PixelArray } from '../../../core/index.js';
import { EDOF_METHODS, edofFuse } from '../fuse.js';

export const fuseParams = z.strictObject({
  method: z.enum(EDOF_METHODS).default('sharpness').describe("'sharpness': local energy-of-Laplacian focus measure, smoothed decision, sub-plane interpolation (fast); 'wavelet': redundant B3-spline wavelet fusion with maximum-|coefficient| selection and a majority-filter consistency check (after Forster et al. 2004)"),
  smoothingPx: z.number().min(0).max(1000).default(4).describe('σ of the confidence-weighted Gaussian smoothing of the height (decision) map, px; 0 = none'),
  subPlane: z.boolean().default(true).describe('Sharpness method: refine the height between planes (three-point fit) and interpolate the output between the two neighbouring planes; false = take each pixel from the nearest plane'),
  windowPx: z.number().int().min(1).max(4095).default(15).describe('Sharpness method: side of the square window of the focus measure, px (odd)'),
  levels: z.number().int().min(1).max(10).optional().describe('Wavelet method: number of wavelet levels (default min(5, log2(min(width, height)) − 2))'),
  channel: z.number().int().min(0).max(65535).optional().describe('Channel (0-based) that decides which plane is in focus; default: the first principal component of all channels (luminance-like for RGB). The decision is applied to every channel'),
}).superRefine((p, ctx) => {
  if (p.windowPx % 2 === 0) ctx.addIssue({ code: 'custom', path: ['windowPx'], message: 'must be odd' });
});

export const fuse = defineOperation({
  id: 'edof.fuse',
  title: 'Extended depth of field',
  description:
    'Fuses a z-stack (one time point) into one all-in-focus image and a height map of the in-focus z of each pixel. Multi-channel and RGB stacks: one decision (from `channel` or the first principal component) applied to every channel.',
  inputs: { stack: { type: 'stack', description: 'z-stack with one time point (any channels; RGB colour too)' } },
  outputs: {
    image: { type: 'stack', description: 'All-in-focus image: one plane per channel (z = t = 1); float32, or uint8 RGB for an RGB stack' },
    heightmap: { type: 'image', description: 'float32 in-focus z of each pixel from the first plane: µm when the stack has a z step (metadata.unit "um"), else planes (metadata.unit "plane")' },
  },
  params: fuseParams,
  run(ctx, { stack }, params) {
    if (params.channel !== undefined && params.channel >= stack.sizeC) {
      throw new FocalError('E_PARAMS', `channel: ${params.channel} is not a channel of this stack (it has ${stack.sizeC}: 0…${stack.sizeC - 1})`, { field: 'channel' });
    }
    if (stack.sizeT !== 1) {
      throw new FocalError('E_PORT', `stack has ${stack.sizeT} time points; edof.fuse fuses one z-stack (pick a time point first, e.g. with stack.substack)`, { field: 'stack' });
    }
    if (params.method === 'wavelet' && params.levels !== undefined && (1 << (params.levels + 1)) > 4 * Math.min(stack.width, stack.height)) {
      throw new FocalError('E_PARAMS', `levels: ${params.levels} wavelet levels need planes of at least ${(1 << (params.levels + 1)) / 4} px, got ${stack.width}×${stack.height}`, { field: 'levels' });
    }
    const planes: PixelArray[][] = [];
    for (let zi = 0; zi < stack.sizeZ; zi++) planes.push(Array.from({ length: stack.sizeC }, (_, c) => stack.planes[planeIndex(stack, c, zi, 0)]));
    const { channels, heightPlanes } = edofFuse(planes, stack.width, stack.height, {
      method: params.method,
      smoothingPx: params.smoothingPx,
      subPlane: params.subPlane,
      windowPx: params.windowPx,
      levels: params.levels,
      decisionChannel: params.channel,
      onPlane: (done, total) => {
        throwIfAborted(ctx.signal);
        ctx.progress(done / total, 'fusing');
      },
    });
    const zStep = stack.calibration.zStepUm;
    const calibrated = zStep !== undefined && zStep > 0 && Number.isFinite(zStep);
    if (calibrated) for (let i = 0; i < heightPlanes.length; i++) heightPlanes[i] *= zStep;
    else ctx.log.warn('the stack has no z step calibration: the height map is in planes, not µm');

    let out: PixelArray[] = channels;
    if (stack.rgb) {
      out = channels.map((ch) => {
        const u = new Uint8Array(ch.length);
        for (let i = 0; i < ch.length; i++) u[i] = ch[i] <= 0 ? 0 : ch[i] >= 255 ? 255 : Math.round(ch[i]);
        return u;
      });
    }
    const image = withPlanes(stack, out, { sizeZ: 1, sizeT: 1 });
    image.metadata = { ...stack.metadata, edof: { method: params.method, planes: stack.sizeZ, decisionChannel: params.channel ?? 'pca' } };
    const { pixelWidthUm, pixelHeightUm } = stack.calibration;
    const heightmap = createImage({
      width: stack.width,
      height: stack.height,
      dtype: 'float32',
      data: heightPlanes,
      calibration: { ...(pixelWidthUm !== undefined ? { pixelWidthUm } : {}), ...(pixelHeightUm !== undefined ? { pixelHeightUm } : {}) },
      metadata: { unit: calibrated ? 'um' : 'plane', ...(calibrated ? { zStepUm: zStep } : {}), origin: 'first plane', edofMethod: params.method, valueMap: { quantity: 'height', unit: calibrated ? 'µm' : 'planes' } }, // previews: viridis with a colour bar
    });
    ctx.log.info(`fused ${stack.sizeZ} planes (${params.method})`);
    return { image, heightmap };
  },
});
