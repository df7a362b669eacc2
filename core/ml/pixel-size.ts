/**
 * A learned op's check of its input's pixel size against its model's. Defocus blur and
 * structure sizes are physical: a network reads them in pixels, so an image at another pixel
 * size shows it things at another scale than it learned.
 */
import type { Calibration } from '../data/image.js';
import { FocalError, throwIfAborted } from '../errors.js';
import { resampleInterleaved } from '../imaging/resample.js';

/** Relative difference in pixel size a learned op takes as the same (10 %). */
export const PIXEL_SIZE_TOLERANCE = 0.1;

/**
 * A warning naming the input (`field`), its calibrated pixel size and the model's when they
 * differ by more than {@link PIXEL_SIZE_TOLERANCE}; undefined when they agree or the file
 * does not say.
 */
export function pixelSizeMismatch(calibration: Pick<Calibration, 'pixelWidthUm' | 'pixelHeightUm'> | undefined, model: { name: string; pixelSizeUm: number }, field: string): string | undefined {
  const px = calibration?.pixelWidthUm ?? calibration?.pixelHeightUm;
  if (px === undefined || !(px > 0) || !(model.pixelSizeUm > 0) || Math.abs(px / model.pixelSizeUm - 1) <= PIXEL_SIZE_TOLERANCE) return undefined;
  return `${field}: ${px} µm pixels (its calibration), but ${model.name} was trained on ${model.pixelSizeUm} µm pixels: it sees structures and blur at ${(model.pixelSizeUm / px).toFixed(2)}× the size in pixels it learned, so the result is unreliable; resample the image to ${model.pixelSizeUm} µm pixels first, or use a model trained at its pixel size`;
}

/** Pixel sizes further than this factor from a model's are not resampled: likely a wrong calibration (a missing unit read as µm). */
export const MAX_GRID_RATIO = 4;

/** How a learned op meets an input at another pixel size: processed on the model's pixel grid ('auto') or fed as it is ('off'). */
export type ResampleMode = 'auto' | 'off';

/** What a learned op does about its input's pixel size: the scale onto the model's grid (input pixel ÷ model pixel; 1 = as it is) and what to log. */
export interface ModelGrid {
  scale: number;
  message?: { level: 'info' | 'warn'; text: string };
}

/** The words a {@link modelGrid} message uses for what is fed and what is done on the model's grid ("the shots are fed", "refocused"). */
export interface ModelGridWords {
  /** e.g. 'the image is' / 'the shots are' */
  subject: string;
  /** e.g. 'refocused': what happens on the model's grid */
  verb: string;
  /** how the result comes back: e.g. 'the correction is resampled back to its pixels' */
  back: string;
}

/**
 * The input's pixel grid against the model's. Defocus blur and structure sizes are physical: at
 * another pixel size they span model/actual times as many pixels, and a network reads them in
 * pixels. Within {@link PIXEL_SIZE_TOLERANCE}, or with no calibration, the input is taken as it
 * is (scale 1, nothing to say); beyond {@link MAX_GRID_RATIO}× too, with a warning (likely a wrong
 * calibration); with `mode` 'off' as it is, with a warning; else scale = input px / model px.
 */
export function modelGrid(
  calibration: Pick<Calibration, 'pixelWidthUm' | 'pixelHeightUm'> | undefined,
  field: string,
  model: { name: string; pixelSizeUm: number },
  mode: ResampleMode,
  words: ModelGridWords,
): ModelGrid {
  const given = calibration?.pixelWidthUm ?? calibration?.pixelHeightUm;
  const px = given !== undefined && given > 0 ? given : undefined;
  const trained = model.pixelSizeUm;
  if (px === undefined || !(trained > 0) || Math.abs(px / trained - 1) <= PIXEL_SIZE_TOLERANCE) return { scale: 1 };
  if (px / trained > MAX_GRID_RATIO || trained / px > MAX_GRID_RATIO) {
    return { scale: 1, message: { level: 'warn', text: `${field}: ${px} µm pixels (its calibration) are more than ${MAX_GRID_RATIO}× from the ${trained} µm ${model.name} was trained on, so ${words.subject} fed as ${words.subject.endsWith('are') ? 'they are' : 'it is'}, not resampled: check the file's calibration (a missing unit read as µm?), or use a model trained near that pixel size` } };
  }
  if (mode === 'off') {
    return { scale: 1, message: { level: 'warn', text: `${field}: ${px} µm pixels (its calibration), but ${model.name} was trained on ${trained} µm pixels: a defocus blurs over ${(trained / px).toFixed(2)}× the pixels it learned, so the result is unreliable; leave resample at 'auto' to have it ${words.verb} on the model's grid` } };
  }
  return { scale: px / trained, message: { level: 'info', text: `${field}: ${px} µm pixels (its calibration); ${model.name} was trained on ${trained} µm pixels, so ${words.subject} ${words.verb} on its grid (×${(px / trained).toFixed(3)}) and ${words.back} (resample 'auto')` } };
}

/** The size of a `width` × `height` plane on a grid `scale` times as fine (at least 3 px a side). */
export function modelGridSize(width: number, height: number, scale: number): { width: number; height: number } {
  return { width: Math.max(3, Math.round(width * scale)), height: Math.max(3, Math.round(height * scale)) };
}

/**
 * Runs `process` on the model's pixel grid: each input (interleaved, `channels` per pixel, the same
 * size) resampled by `scale` (core's cubic-spline `resampleInterleaved`, anti-aliased where it
 * shrinks), and the result brought back to `width` × `height`. `residual`: the result is the first
 * input plus the process's change to it (its output − that input, on the model's grid) resampled
 * back, so the input keeps the detail finer than the model's grid (a restoration such as
 * refocusing; `outChannels` must equal `channels`); otherwise the output itself is resampled back
 * (a map of another quantity). `scale` 1 (the same size) calls `process` on the inputs as they are.
 */
export async function onModelGrid(
  inputs: readonly ArrayLike<number>[],
  width: number,
  height: number,
  channels: number,
  scale: number,
  process: (inputs: Float32Array[], width: number, height: number) => Promise<Float32Array>,
  o: { residual: boolean; outChannels?: number; signal?: AbortSignal },
): Promise<Float32Array> {
  if (!(scale > 0 && Number.isFinite(scale))) throw new FocalError('E_ARGUMENT', `scale: must be a number > 0, got ${scale}`, { field: 'scale' });
  if (inputs.length === 0) throw new FocalError('E_ARGUMENT', 'onModelGrid: no input', { field: 'inputs' });
  const outChannels = o.outChannels ?? channels;
  if (o.residual && outChannels !== channels) throw new FocalError('E_ARGUMENT', `onModelGrid: a residual result needs as many output channels as input ones (${outChannels} vs ${channels})`, { field: 'outChannels' });
  const m = modelGridSize(width, height, scale);
  if (m.width === width && m.height === height) return process(inputs.map((a) => (a instanceof Float32Array ? a : Float32Array.from(a))), width, height);
  const down = inputs.map((a) => resampleInterleaved(a, width, height, channels, m.width, m.height));
  const out = await process(down, m.width, m.height);
  throwIfAborted(o.signal);
  if (out.length !== m.width * m.height * outChannels) throw new FocalError('E_ARGUMENT', `onModelGrid: the process returned ${out.length} values, not ${m.width}×${m.height}×${outChannels}`, { field: 'process' });
  if (!o.residual) return resampleInterleaved(out, m.width, m.height, outChannels, width, height);
  for (let i = 0; i < out.length; i++) out[i] -= down[0][i];
  const correction = resampleInterleaved(out, m.width, m.height, channels, width, height);
  const base = inputs[0];
  const result = new Float32Array(width * height * channels);
  for (let i = 0; i < result.length; i++) result[i] = base[i] + correction[i];
  return result;
}
