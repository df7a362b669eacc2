import { FocalError, defineOperation, planeCount, throwIfAborted, withPlanes, z, type OpContext, type PixelArray, type Stack } from '../../../core/index.js';
import { close, dilate, distanceMap, erode, fillHoles, open, watershed } from '../binary.js';

/**
 * Checks that `stack` holds binary masks as cellcount.threshold writes them (uint8, only 0 and
 * 255, one channel, not RGB), as ImageJ's Process › Binary requires ("8-bit binary image").
 * @throws FocalError `E_PORT` naming what is wrong.
 */
export function assertMaskStack(stack: Stack, opId: string): void {
  if (stack.rgb) throw new FocalError('E_PORT', `mask: ${opId} needs a binary mask, got RGB; threshold a grey image first (cellcount.threshold)`);
  if (stack.dtype !== 'uint8') throw new FocalError('E_PORT', `mask: ${opId} needs a binary uint8 mask (0/255), got ${stack.dtype}; threshold it first (cellcount.threshold)`);
  for (let k = 0; k < stack.planes.length; k++) {
    const p = stack.planes[k];
    for (let i = 0; i < p.length; i++) {
      if (p[i] !== 0 && p[i] !== 255) {
        throw new FocalError('E_PORT', `mask: ${opId} needs a binary mask with only 0 and 255, plane ${k} has ${p[i]}; threshold it first (cellcount.threshold)`);
      }
    }
  }
}

function perPlane(ctx: OpContext, stack: Stack, fn: (p: PixelArray) => PixelArray): Stack {
  const total = planeCount(stack);
  const planes: PixelArray[] = [];
  for (let k = 0; k < total; k++) {
    throwIfAborted(ctx.signal);
    planes.push(fn(stack.planes[k]));
    ctx.progress((k + 1) / total);
  }
  return withPlanes(stack, planes);
}

const maskIn = { mask: { type: 'stack', description: 'Binary mask stack (uint8, 255 = object, 0 = background), e.g. from cellcount.threshold' } } as const;
const maskOut = { mask: { type: 'stack', description: 'Binary mask stack (uint8, 255 = object)' } } as const;

export const fillHolesOp = defineOperation({
  id: 'cellcount.fill-holes',
  title: 'Fill holes',
  description: "Fills background regions not connected (4-connected) to the image border, as ImageJ's Process › Binary › Fill Holes.",
  inputs: maskIn,
  outputs: maskOut,
  params: z.strictObject({}),
  run(ctx, { mask }) {
    assertMaskStack(mask, 'cellcount.fill-holes');
    return { mask: perPlane(ctx, mask, (p) => fillHoles(p, mask.width, mask.height)) };
  },
});

export const MORPHOLOGY_OPERATIONS = ['erode', 'dilate', 'open', 'close'] as const;

export const morphologyOp = defineOperation({
  id: 'cellcount.binary',
  title: 'Erode / dilate / open / close',
  description:
    "ImageJ's Process › Binary Erode, Dilate, Open and Close with its iterations and count options (8-neighbourhood; pixels outside the image count as background).",
  inputs: maskIn,
  outputs: maskOut,
  params: z.strictObject({
    operation: z.enum(MORPHOLOGY_OPERATIONS).describe('erode, dilate, open (erode then dilate) or close (dilate then erode)'),
    iterations: z.number().int().min(1).max(1000).default(1).describe("Number of erosions/dilations (ImageJ's iterations)"),
    count: z.number().int().min(1).max(8).default(1).describe("Background (erode) or foreground (dilate) 8-neighbours needed to change a pixel (ImageJ's count)"),
  }),
  run(ctx, { mask }, params) {
    assertMaskStack(mask, 'cellcount.binary');
    const fn = { erode, dilate, open, close }[params.operation];
    return { mask: perPlane(ctx, mask, (p) => fn(p, mask.width, mask.height, { iterations: params.iterations, count: params.count })) };
  },
  // each pass reads the 8-neighbourhood: a pixel depends on pixels up to `iterations` px away,
  // twice that for open/close (the image border is handled by the passes themselves)
  tiling: ({ operation, iterations }) => ({ haloPx: (operation === 'open' || operation === 'close' ? 2 : 1) * iterations, dtype: 'uint8' }),
});

export const watershedOp = defineOperation({
  id: 'cellcount.watershed',
  title: 'Watershed (split touching objects)',
  description:
    "Splits touching objects along the watershed of the Euclidean distance map, seeded at its maxima that stand out by more than 0.5 px, as ImageJ's Process › Binary › Watershed; the cut lines leave objects 8-disconnected.",
  inputs: maskIn,
  outputs: maskOut,
  params: z.strictObject({
    tolerancePx: z.number().min(0).max(65536).default(0.5).describe('How far (px of distance) a distance-map maximum must stand out to seed its own object (ImageJ: 0.5)'),
  }),
  run(ctx, { mask }, params) {
    assertMaskStack(mask, 'cellcount.watershed');
    return { mask: perPlane(ctx, mask, (p) => watershed(p, mask.width, mask.height, { tolerancePx: params.tolerancePx })) };
  },
});

export const distanceMapOp = defineOperation({
  id: 'cellcount.distance-map',
  title: 'Distance map',
  description: "Exact Euclidean distance map of a binary mask (float32, px; 0 on background), as ImageJ's Distance Map with 32-bit output.",
  inputs: maskIn,
  outputs: { map: { type: 'stack', description: 'Distance to the nearest background pixel, px (float32)' } },
  params: z.strictObject({}),
  run(ctx, { mask }) {
    assertMaskStack(mask, 'cellcount.distance-map');
    return { map: perPlane(ctx, mask, (p) => distanceMap(p, mask.width, mask.height)) };
  },
});
