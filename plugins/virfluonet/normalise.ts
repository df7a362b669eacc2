/**
 * The [−1, 1] normalisation (paper 003, Methods: "All images … were pre-processed with [−1 1]
 * normalization only"; "the stitched predicted images were inversely normalized to the
 * original image range"). The paper does not say per image or per data set; here each channel
 * has one fixed linear map, fitted on the training images (robust percentiles) and stored in
 * the model package, so a prediction is inverted to the target channel's original units
 * (camera ADU) exactly as trained:
 *   y = clip(2·(x − lowAdu)/(highAdu − lowAdu) − 1, −1, 1),   x = lowAdu + (y + 1)/2·(highAdu − lowAdu).
 */
import { FocalError, z } from '../../core/index.js';

export const ChannelMapSchema = z.object({
  channel: z.string().min(1),
  /** Value mapped to −1 (ADU). */
  lowAdu: z.number(),
  /** Value mapped to +1 (ADU). */
  highAdu: z.number(),
}).refine((m) => m.highAdu > m.lowAdu, { message: 'highAdu must exceed lowAdu' });
export type ChannelMap = z.infer<typeof ChannelMapSchema>;

/** Percentiles of the training data used for the map (p0.1 → −1, p99.9 → +1). */
export const MAP_PERCENTILES: [number, number] = [0.1, 99.9];

/** A map from the pooled pixels of several images of one channel (subsampled to ≤ 2·10⁶ values). */
export function fitChannelMap(channel: string, images: ArrayLike<number>[], percentiles: [number, number] = MAP_PERCENTILES): ChannelMap {
  const total = images.reduce((s, im) => s + im.length, 0);
  if (total === 0) throw new FocalError('E_ARGUMENT', `${channel}: no pixels to fit the normalisation on`, { field: channel });
  const step = Math.max(1, Math.floor(total / 2e6));
  const values: number[] = [];
  for (const im of images) for (let i = 0; i < im.length; i += step) values.push(im[i]);
  const s = Float64Array.from(values).sort();
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.round((p / 100) * (s.length - 1))))];
  const lowAdu = at(percentiles[0]);
  let highAdu = at(percentiles[1]);
  if (!(highAdu > lowAdu)) highAdu = lowAdu + 1;
  return { channel, lowAdu, highAdu };
}

/** Original units → [−1, 1] (clipped). */
export function toUnitRange(data: ArrayLike<number>, m: ChannelMap, out = new Float32Array(data.length), stride = 1, offset = 0): Float32Array {
  const g = 2 / (m.highAdu - m.lowAdu);
  for (let i = 0; i < data.length; i++) out[i * stride + offset] = Math.min(1, Math.max(-1, (data[i] - m.lowAdu) * g - 1));
  return out;
}

/** [−1, 1] → original units (the inverse of {@link toUnitRange} inside [lowAdu, highAdu]). */
export function fromUnitRange(data: ArrayLike<number>, m: ChannelMap, stride = 1, offset = 0): Float32Array {
  const n = Math.floor(data.length / stride);
  const out = new Float32Array(n);
  const h = (m.highAdu - m.lowAdu) / 2;
  for (let i = 0; i < n; i++) out[i] = m.lowAdu + (data[i * stride + offset] + 1) * h;
  return out;
}
