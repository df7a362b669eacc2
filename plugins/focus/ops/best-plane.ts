import { FocalError, createImage, createTable, defineOperation, planeIndex, throwIfAborted, z } from '../../../core/index.js';
import { FOCUS_CRITERIA, focusScore } from '../criteria.js';

export const bestPlaneParams = z.strictObject({
  criterion: z.enum(FOCUS_CRITERIA).default('vollath4').describe('Focus criterion: vollath4 | vollath5 | std | nvar (Deep-R), brenner (TSVA), tenengrad; higher = sharper for all'),
  channel: z.number().int().min(0).max(65535).default(0).describe('Channel (0-based) that is scored and returned'),
});

export const bestPlane = defineOperation({
  id: 'focus.best-plane',
  title: 'Sharpest z plane',
  description:
    'Scores every z plane of one channel with a focus criterion and returns the sharpest plane (of that channel) and the score of each plane. The stack must have one time point.',
  inputs: { stack: { type: 'stack', description: 'z-stack (any number of channels, one time point)' } },
  outputs: {
    image: { type: 'image', description: 'The sharpest z plane of the scored channel (same pixel type); metadata.focusPlane holds its 0-based z index' },
    scores: { type: 'table', description: 'One row per z plane: plane (0-based z index), score (higher = sharper)' },
  },
  params: bestPlaneParams,
  run(ctx, { stack }, params) {
    const { criterion, channel } = params;
    if (channel >= stack.sizeC) {
      throw new FocalError('E_PARAMS', `channel: ${channel} is outside the stack's ${stack.sizeC} channel(s) (0-based)`, { field: 'channel' });
    }
    if (stack.sizeT !== 1) {
      throw new FocalError('E_PORT', `stack has ${stack.sizeT} time points; focus.best-plane scores one z-stack (pick a time point first, e.g. with stack.substack)`, { field: 'stack' });
    }
    const scores: number[] = [];
    for (let z = 0; z < stack.sizeZ; z++) {
      throwIfAborted(ctx.signal);
      try {
        scores.push(focusScore(stack.planes[planeIndex(stack, channel, z, 0)], stack.width, stack.height, criterion));
      } catch (err) {
        throw new FocalError('E_PORT', `stack: plane z=${z} of channel ${channel}: ${(err as Error).message}`, { field: 'stack' }, { cause: err });
      }
      ctx.progress((z + 1) / stack.sizeZ);
    }
    let best = 0;
    for (let z = 1; z < scores.length; z++) if (scores[z] > scores[best]) best = z;
    ctx.log.info(`sharpest plane z=${best} of ${stack.sizeZ} (${criterion})`, { channel, score: scores[best] });
    const { pixelWidthUm, pixelHeightUm } = stack.calibration;
    const image = createImage({
      width: stack.width,
      height: stack.height,
      dtype: stack.dtype,
      data: stack.planes[planeIndex(stack, channel, best, 0)].slice(),
      calibration: {
        ...(pixelWidthUm !== undefined ? { pixelWidthUm } : {}),
        ...(pixelHeightUm !== undefined ? { pixelHeightUm } : {}),
      },
      metadata: { ...stack.metadata, focusPlane: best, focusCriterion: criterion, ...(stack.channelNames[channel] !== undefined ? { channelName: stack.channelNames[channel] } : {}) },
    });
    return { image, scores: createTable(['plane', 'score'], scores.map((score, plane) => ({ plane, score }))) };
  },
});
