import { FocalError, defineOperation, planeCount, planeIndex, throwIfAborted, withPlanes, z, type PixelArray, type RegionSource, type Stack } from '../../../core/index.js';
import { STAIN_VECTORS, colourDeconvolution, rgbToGrey, type StainSet } from '../colour.js';
import { subtractBackground } from '../background.js';
import { addToContrastHistogram, contrastHistogram, normaliseContrast, saturatedLimitsOf, stretchContrast } from '../contrast.js';
import { forEachTile, tiledFiniteRange } from '../tiles.js';
import { requireGrey } from './threshold.js';

/** @throws FocalError `E_PORT` unless the stack is RGB colour (3 uint8 channels). */
function requireRgb(stack: Stack, opId: string): void {
  if (!stack.rgb && !(stack.dtype === 'uint8' && stack.sizeC === 3)) {
    throw new FocalError(
      'E_PORT',
      `${opId}: input 'stack' must be an RGB colour image (3 uint8 channels); got ${stack.sizeC} channel(s) of ${stack.dtype}`,
      { port: 'stack' },
    );
  }
}

/** Calls fn(r, g, b) for every (z, t) of an RGB stack and returns one plane per (z, t). */
function perRgbPlane<T extends PixelArray>(stack: Stack, signal: AbortSignal | undefined, progress: (f: number) => void, fn: (r: PixelArray, g: PixelArray, b: PixelArray) => T[]): T[][] {
  const outs: T[][] = [];
  const total = stack.sizeZ * stack.sizeT;
  let k = 0;
  for (let t = 0; t < stack.sizeT; t++) {
    for (let zi = 0; zi < stack.sizeZ; zi++) {
      throwIfAborted(signal);
      const p = (c: number) => stack.planes[planeIndex(stack, c, zi, t)];
      outs.push(fn(p(0), p(1), p(2)));
      progress(++k / total);
    }
  }
  return outs;
}

export const rgbToGreyOp = defineOperation({
  id: 'cellcount.rgb-to-grey',
  title: 'RGB to grey',
  description: "ImageJ's RGB → 8-bit conversion: (R+G+B)/3, or weighted 0.299 R + 0.587 G + 0.114 B, rounded.",
  inputs: { stack: { type: 'stack', description: 'RGB colour image or hyperstack (3 uint8 channels)' } },
  outputs: { stack: { type: 'stack', description: 'uint8 grey image, one channel; z, t and calibration kept' } },
  params: z.strictObject({
    weighted: z.boolean().default(false).describe('Use luminance weights 0.299/0.587/0.114 (ImageJ\'s "Weighted RGB conversions"); false: unweighted mean, ImageJ\'s default'),
  }),
  // a point op across the three channels: streamed slides go tile by tile with every channel of a tile together
  tiling: (_params, input) => (input.dtype === 'uint8' && (input.sizeC === undefined || input.sizeC === 3) ? { haloPx: 0, dtype: 'uint8', channels: 'together', outputChannels: 1 } : undefined),
  run(ctx, { stack }, params) {
    requireRgb(stack, 'cellcount.rgb-to-grey');
    const planes = perRgbPlane(stack, ctx.signal, (f) => ctx.progress(f), (r, g, b) => [rgbToGrey(r, g, b, { weighted: params.weighted })]).flat();
    return { stack: withPlanes(stack, planes, { sizeC: 1 }) };
  },
});

const STAIN_NAMES: Record<StainSet, string[]> = {
  'H&E': ['Haematoxylin', 'Eosin', 'Residual'],
  'H-DAB': ['Haematoxylin', 'DAB', 'Residual'],
};

export const colourDeconvolutionOp = defineOperation({
  id: 'cellcount.colour-deconvolution',
  title: 'Colour deconvolution',
  description:
    "Separates stains in brightfield RGB images (Ruifrok & Johnston 2001, their stain vectors); the first stain (haematoxylin for 'H&E' and 'H-DAB') also comes out as an 8-bit transmittance image with dark nuclei.",
  inputs: { stack: { type: 'stack', description: 'RGB brightfield image (3 uint8 channels)' } },
  outputs: {
    stains: { type: 'stack', description: "3-channel stack, one channel per stain: optical density (float32) or 8-bit transmittance, per 'stainsAs'" },
    haematoxylin: { type: 'stack', description: 'uint8 one-channel transmittance image of the first stain (haematoxylin): dark where it is dense' },
  },
  params: z.strictObject({
    vectors: z
      .union([z.enum(Object.keys(STAIN_VECTORS) as [StainSet, ...StainSet[]]), z.array(z.array(z.number().min(-1000).max(1000)).length(3)).min(2).max(3)])
      .default('H&E')
      .describe("Stain set: 'H&E' or 'H-DAB' (Ruifrok & Johnston's vectors), or 2–3 RGB optical-density vectors (the first should be the nuclear stain)"),
    stainsAs: z.enum(['density', 'transmittance']).default('density').describe("'density': optical density per stain (float32); 'transmittance': 8-bit images like ImageJ's Colour Deconvolution plugin"),
  }),
  run(ctx, { stack }, params) {
    requireRgb(stack, 'cellcount.colour-deconvolution');
    const stains: PixelArray[] = [];
    const haem: PixelArray[] = [];
    perRgbPlane(stack, ctx.signal, (f) => ctx.progress(f), (r, g, b) => {
      const res = colourDeconvolution(r, g, b, params.vectors);
      stains.push(...(params.stainsAs === 'density' ? res.density : res.transmittance));
      haem.push(res.transmittance[0]);
      return [];
    });
    const names = typeof params.vectors === 'string' ? STAIN_NAMES[params.vectors] : ['Stain 1', 'Stain 2', 'Stain 3'];
    const out = withPlanes(stack, stains, { sizeC: 3 });
    out.rgb = false;
    out.channelNames = names;
    const h = withPlanes(stack, haem, { sizeC: 1 });
    h.channelNames = [names[0]];
    return { stains: out, haematoxylin: h };
  },
});

export const subtractBackgroundOp = defineOperation({
  id: 'cellcount.subtract-background',
  title: 'Subtract background (rolling ball)',
  description: "ImageJ's Process › Subtract Background with the rolling ball (shrinking for radii > 10 px, 3×3 pre-smoothing by default); each plane separately.",
  inputs: { stack: { type: 'stack', description: 'Grey image or hyperstack (uint8, uint16 or float32)' } },
  outputs: { stack: { type: 'stack', description: 'Background-subtracted image, same type (or the background with createBackground)' } },
  params: z.strictObject({
    radiusPx: z.number().positive().max(65536).default(50).describe('Rolling-ball radius, px; at least the radius of the largest object that is not background (ImageJ default 50)'),
    lightBackground: z.boolean().default(false).describe('Light background with dark objects (brightfield); the result keeps a white background'),
    smooth: z.boolean().default(true).describe("3×3 mean before computing the background (ImageJ's default; false = ImageJ's 'disable smoothing')"),
    createBackground: z.boolean().default(false).describe('Output the background itself instead of subtracting it'),
  }),
  run(ctx, { stack }, params) {
    requireGrey(stack, 'cellcount.subtract-background');
    const total = planeCount(stack);
    const planes: PixelArray[] = [];
    for (let i = 0; i < total; i++) {
      throwIfAborted(ctx.signal);
      planes.push(subtractBackground(stack.planes[i], stack.width, stack.height, params));
      ctx.progress((i + 1) / total);
    }
    return { stack: withPlanes(stack, planes) };
  },
});

export const normaliseContrastOp = defineOperation({
  id: 'cellcount.normalise-contrast',
  title: 'Normalise contrast',
  description: "ImageJ's Process › Enhance Contrast with Normalize: stretches each plane so that saturatedPercent of the pixels saturate (half at each end).",
  inputs: { stack: { type: 'stack', description: 'Grey image or hyperstack (uint8, uint16 or float32)' } },
  outputs: { stack: { type: 'stack', description: 'Stretched image, same type: full 0…255 / 0…65535 range, or 0…1 for float32' } },
  params: z.strictObject({
    saturatedPercent: z.number().min(0).max(99).default(0.35).describe('Percentage of pixels allowed to saturate, split between both ends (ImageJ default 0.35)'),
    limits: z
      .tuple([z.number().min(-3.4e38).max(3.4e38), z.number().min(-3.4e38).max(3.4e38)])
      .optional()
      .describe('[low, high] in pixel units: stretch these to the full range on every plane instead of finding them (saturatedPercent is then unused; high ≤ low leaves the image as it is). A streamed run measures them on a slide\'s whole plane and passes them'),
  }),
  // with its limits given, a point operation: a slide goes tile by tile (a streamed run measures the limits first: measurePlane)
  tiling: (params, input) => (params.limits ? { haloPx: 0, dtype: input.dtype } : undefined),
  async measurePlane(params, source, { tileSize, signal }) {
    return { ...params, limits: await tiledSaturatedLimits(source, params.saturatedPercent, tileSize, signal) };
  },
  run(ctx, { stack }, params) {
    requireGrey(stack, 'cellcount.normalise-contrast');
    const total = planeCount(stack);
    const planes: PixelArray[] = [];
    for (let i = 0; i < total; i++) {
      throwIfAborted(ctx.signal);
      planes.push(params.limits ? stretchContrast(stack.planes[i], params.limits[0], params.limits[1]) : normaliseContrast(stack.planes[i], params));
      ctx.progress((i + 1) / total);
    }
    return { stack: withPlanes(stack, planes) };
  },
});

/**
 * The limits {@link saturatedLimits} finds on a one-plane source read tile by tile: the
 * histogram summed over the tiles (float32: a first pass for the finite range its bins span).
 * [0, 0] for an all-NaN plane, [v, v] for a flat float32 one: both leave it as it is, as on the whole plane.
 */
export async function tiledSaturatedLimits(source: RegionSource, saturatedPercent: number, tileSize: number, signal?: AbortSignal): Promise<[number, number]> {
  if (source.sizeC * source.sizeZ * source.sizeT !== 1) throw new FocalError('E_PORT', `stack: measuring contrast limits tile by tile takes one plane, got ${source.sizeC * source.sizeZ * source.sizeT}`, { port: 'stack' });
  if (source.dtype !== 'uint8' && source.dtype !== 'uint16' && source.dtype !== 'float32') throw new FocalError('E_PORT', `stack: cellcount.normalise-contrast takes uint8, uint16 or float32, got ${source.dtype}`, { port: 'stack' });
  let range: [number, number] | undefined;
  if (source.dtype === 'float32') {
    const [min, max] = await tiledFiniteRange(source, tileSize, { signal });
    if (!(min <= max)) return [0, 0];
    if (!(max > min)) return [min, max];
    range = [min, max];
  }
  const h = contrastHistogram(source.dtype, range);
  await forEachTile(source, tileSize, (data) => addToContrastHistogram(h, data), { signal });
  const { low, high } = saturatedLimitsOf(h, saturatedPercent);
  return [low, high];
}
