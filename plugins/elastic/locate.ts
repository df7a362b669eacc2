/**
 * Coarse step of the co-registration: find where a template (the fixed image) lies in a
 * larger image by normalised cross-correlation, coarse to fine (no FFT): exhaustive search on
 * a 2×2-mean pyramid level where the template is about 32 px, then ±2 px refinement at each
 * finer level around the best few candidates.
 */
import { FocalError } from '../../core/index.js';
import type { Plane } from './register.js';

export interface LocateResult {
  /** Top-left corner of the best match in the large image, pixels (integer). */
  x: number;
  y: number;
  /** Normalised cross-correlation at the match, in [−1, 1]. */
  ncc: number;
}

interface Level {
  data: Float64Array;
  width: number;
  height: number;
}

function halve(l: Level): Level {
  const w = Math.floor(l.width / 2), h = Math.floor(l.height / 2);
  const d = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = 2 * y * l.width + 2 * x;
      d[y * w + x] = 0.25 * (l.data[i] + l.data[i + 1] + l.data[i + l.width] + l.data[i + l.width + 1]);
    }
  }
  return { data: d, width: w, height: h };
}

/** NCC of template t (zero-mean, norm tn) with the window of `img` at (ox, oy). */
function nccAt(img: Level, t: Float64Array, tw: number, th: number, tn: number, ox: number, oy: number): number {
  let s = 0, s1 = 0, s2 = 0;
  for (let y = 0; y < th; y++) {
    const row = (oy + y) * img.width + ox;
    const trow = y * tw;
    for (let x = 0; x < tw; x++) {
      const v = img.data[row + x];
      s += t[trow + x] * v;
      s1 += v;
      s2 += v * v;
    }
  }
  const n = tw * th;
  const varSum = s2 - (s1 * s1) / n;
  return varSum > 1e-12 * n && tn > 0 ? s / (tn * Math.sqrt(varSum)) : -1;
}

function zeroMean(l: Level): { t: Float64Array; norm: number } {
  const n = l.data.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += l.data[i];
  m /= n;
  const t = new Float64Array(n);
  let ss = 0;
  for (let i = 0; i < n; i++) {
    t[i] = l.data[i] - m;
    ss += t[i] * t[i];
  }
  return { t, norm: Math.sqrt(ss) };
}

/**
 * Locates `template` inside `image` (template must fit).
 * @throws FocalError `E_ARGUMENT` (field `moving`) when the template is larger than the image.
 */
export function locateTemplate(image: Plane, template: Plane, options: { candidates?: number } = {}): LocateResult {
  if (template.width > image.width || template.height > image.height) {
    throw new FocalError(
      'E_ARGUMENT',
      `moving: the image to search (${image.width}×${image.height}) must be at least as large as the fixed image (${template.width}×${template.height})`,
      { field: 'moving' },
    );
  }
  const candidates = options.candidates ?? 4;
  const imgs: Level[] = [{ data: Float64Array.from(image.data as ArrayLike<number>), width: image.width, height: image.height }];
  const tmps: Level[] = [{ data: Float64Array.from(template.data as ArrayLike<number>), width: template.width, height: template.height }];
  while (Math.min(tmps[tmps.length - 1].width, tmps[tmps.length - 1].height) >= 64) {
    imgs.push(halve(imgs[imgs.length - 1]));
    tmps.push(halve(tmps[tmps.length - 1]));
  }
  // exhaustive search at the coarsest level
  let L = imgs.length - 1;
  let img = imgs[L];
  let tp = tmps[L];
  let { t, norm } = zeroMean(tp);
  const scores: { x: number; y: number; ncc: number }[] = [];
  for (let oy = 0; oy <= img.height - tp.height; oy++) {
    for (let ox = 0; ox <= img.width - tp.width; ox++) scores.push({ x: ox, y: oy, ncc: nccAt(img, t, tp.width, tp.height, norm, ox, oy) });
  }
  scores.sort((a, b) => b.ncc - a.ncc);
  // keep the best candidates that are not neighbours of a better one
  let best: { x: number; y: number; ncc: number }[] = [];
  for (const s of scores) {
    if (best.length >= candidates) break;
    if (best.every((b) => Math.abs(b.x - s.x) > 2 || Math.abs(b.y - s.y) > 2)) best.push(s);
  }
  // refine level by level
  while (L > 0) {
    L--;
    img = imgs[L];
    tp = tmps[L];
    ({ t, norm } = zeroMean(tp));
    best = best.map((b) => {
      let top = { x: 2 * b.x, y: 2 * b.y, ncc: -Infinity };
      for (let dy = -2; dy <= 2; dy++) {
        for (let dx = -2; dx <= 2; dx++) {
          const ox = 2 * b.x + dx, oy = 2 * b.y + dy;
          if (ox < 0 || oy < 0 || ox > img.width - tp.width || oy > img.height - tp.height) continue;
          const v = nccAt(img, t, tp.width, tp.height, norm, ox, oy);
          if (v > top.ncc) top = { x: ox, y: oy, ncc: v };
        }
      }
      return top;
    });
    best.sort((a, b) => b.ncc - a.ncc);
    if (L <= 1) best = best.slice(0, 1);
  }
  return best[0];
}
