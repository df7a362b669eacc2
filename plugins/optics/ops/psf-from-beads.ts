import { FocalError, createStack, createTable, defineOperation, isFocalError, throwIfAborted, z, type Cell } from '../../../core/index.js';
import { psfFromBeadStack, psfFromBeads, type Bead } from '../beads.js';

export const psfFromBeadsParams = z.strictObject({
  boxPx: z.number().int().min(5).max(4095).default(15).describe('Side of the box fitted and averaged around each bead, px (odd)'),
  minSeparationPx: z.number().min(0).max(65536).optional().describe('Skip beads with another peak closer than this, px; default boxPx'),
  thresholdSigma: z.number().positive().max(1e6).default(5).describe('Detection threshold above the median background, in robust noise SDs (1.4826·MAD)'),
  pixelSizeUm: z.number().positive().max(1000).optional().describe('Pixel size, µm; default: the stack\'s calibration'),
  zStepUm: z.number().positive().max(10000).optional().describe('z step, µm (z-stacks); default: the stack\'s calibration'),
}).superRefine((p, ctx) => {
  if (p.boxPx % 2 === 0) ctx.addIssue({ code: 'custom', path: ['boxPx'], message: 'boxPx must be odd' });
});

export const BEAD_COLUMNS = ['bead', 'x', 'y', 'z', 'amplitude', 'offset', 'sigmaXPx', 'sigmaYPx', 'fwhmXPx', 'fwhmYPx', 'fwhmXUm', 'fwhmYUm', 'fwhmZUm', 'residualRms'];

export const PLANE_COLUMNS = ['bead', 'plane', 'zUm', 'fwhmXPx', 'fwhmYPx', 'fwhmUm'];

function row(b: Bead, i: number): Record<string, Cell> {
  return {
    bead: i,
    x: b.x,
    y: b.y,
    z: b.z ?? null,
    amplitude: b.amplitude,
    offset: b.offset,
    sigmaXPx: b.sigmaXPx,
    sigmaYPx: b.sigmaYPx,
    fwhmXPx: b.fwhmXPx,
    fwhmYPx: b.fwhmYPx,
    fwhmXUm: b.fwhmXUm ?? null,
    fwhmYUm: b.fwhmYUm ?? null,
    fwhmZUm: b.fwhmZUm ?? null,
    residualRms: b.residualRms,
  };
}

export const psfFromBeadsOp = defineOperation({
  id: 'optics.psf-from-beads',
  title: 'PSF from beads',
  description:
    'Detects isolated sub-resolution beads, fits each with a 2D Gaussian (lateral FWHM; axial FWHM from a Gaussian fit along z for a z-stack), registers them to sub-pixel precision and averages them into a measured PSF.',
  inputs: { stack: { type: 'stack', description: 'Bead image: one plane, or a z-stack (≥ 3 slices) of one channel and one time point' } },
  outputs: {
    psf: { type: 'stack', description: 'float32 averaged PSF, boxPx × boxPx (× z planes), unit sum' },
    beads: { type: 'table', description: 'One row per bead: position (px, z in planes), amplitude, offset, σ and FWHM (px, µm)' },
    fwhmByPlane: { type: 'table', optional: true, description: 'z-stacks: lateral FWHM of every bead on every plane (bead, plane, zUm, fwhmXPx, fwhmYPx, fwhmUm = mean of x and y in µm; null where the fit failed)' },
  },
  params: psfFromBeadsParams,
  run(ctx, { stack }, params) {
    if (stack.sizeC !== 1 || stack.sizeT !== 1) {
      throw new FocalError('E_PORT', `expected one channel and one time point, got c=${stack.sizeC}, t=${stack.sizeT}; select them with stack.substack`, { field: 'stack' });
    }
    if (stack.sizeZ === 2) throw new FocalError('E_PORT', 'a bead z-stack needs at least 3 slices (got 2)', { field: 'stack' });
    const pixelSizeUm = params.pixelSizeUm ?? stack.calibration.pixelWidthUm;
    const zStepUm = params.zStepUm ?? stack.calibration.zStepUm;
    const options = { boxPx: params.boxPx, minSeparationPx: params.minSeparationPx, thresholdSigma: params.thresholdSigma, pixelSizeUm, zStepUm };
    throwIfAborted(ctx.signal);
    let result;
    try {
      result = stack.sizeZ === 1 ? { ...psfFromBeads(stack.planes[0], stack.width, stack.height, options), planes: 1 } : psfFromBeadStack(stack.planes, stack.width, stack.height, options);
    } catch (e) {
      if (isFocalError(e) && e.code === 'E_ARGUMENT') throw new FocalError(e.details.field === 'image' ? 'E_PORT' : 'E_PARAMS', e.message, { field: e.details.field === 'image' ? 'stack' : e.details.field }, { cause: e });
      throw e;
    }
    ctx.progress(1);
    ctx.log.info(`psf-from-beads: ${result.beads.length} beads used of ${result.detected} peaks (crowded ${result.rejected.crowded}, edge ${result.rejected.edge}, failed fit ${result.rejected.fit})`);
    const box = params.boxPx;
    const planes = Array.from({ length: result.planes }, (_, q) => result.psf.slice(q * box * box, (q + 1) * box * box));
    return {
      psf: createStack({
        width: box,
        height: box,
        dtype: 'float32',
        sizeZ: result.planes,
        planes,
        calibration: {
          ...(pixelSizeUm !== undefined ? { pixelWidthUm: pixelSizeUm, pixelHeightUm: pixelSizeUm } : {}),
          ...(zStepUm !== undefined && result.planes > 1 ? { zStepUm } : {}),
        },
        // the PSF of the beads' channel: its name goes with it
        channelNames: stack.channelNames.length === 1 ? [...stack.channelNames] : [],
        metadata: { psf: { model: 'beads', beads: result.beads.length, detected: result.detected, rejected: result.rejected } },
      }),
      beads: createTable(BEAD_COLUMNS, result.beads.map(row)),
      ...('fwhmByPlane' in result
        ? {
            fwhmByPlane: createTable(
              PLANE_COLUMNS,
              result.fwhmByPlane.map((f) => ({
                bead: f.bead,
                plane: f.plane,
                zUm: zStepUm !== undefined ? (f.plane - result.focusPlane) * zStepUm : null,
                fwhmXPx: f.fwhmXPx,
                fwhmYPx: f.fwhmYPx,
                fwhmUm: pixelSizeUm !== undefined && f.fwhmXPx !== null && f.fwhmYPx !== null ? ((f.fwhmXPx + f.fwhmYPx) / 2) * pixelSizeUm : null,
              })),
            ),
          }
        : {}),
    };
  },
});
