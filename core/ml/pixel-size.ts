/**
 * A learned op's check of its input's pixel size against its model's. Defocus blur and
 * structure sizes are physical: a network reads them in pixels, so an image at another pixel
 * size shows it things at another scale than it learned.
 */
import type { Calibration } from '../data/image.js';

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
