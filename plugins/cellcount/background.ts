/**
 * Rolling-ball background subtraction with the semantics of ImageJ's Process › Subtract
 * Background (Sternberg 1983, "Biomedical image processing"): the background is what a ball of
 * the given radius, rolled under the intensity surface, can reach (a grey-scale opening with a
 * spherical structuring element); it is subtracted from the image.
 */
import { FocalError, dtypeOf, type PixelArray } from '../../core/index.js';

export interface SubtractBackgroundOptions {
  /** Rolling-ball radius in pixels (ImageJ's "Rolling ball radius"); should be at least the radius of the largest object that is not background. */
  radiusPx: number;
  /** True for a light background with dark objects (brightfield): the ball rolls from above and the result has a white (255/65535) background. */
  lightBackground: boolean;
  /** ImageJ's default pre-smoothing: the background is computed from a 3×3 mean of the image (false = ImageJ's "disable smoothing"). */
  smooth?: boolean;
  /** Return the background itself instead of the subtracted image (ImageJ's "create background"). */
  createBackground?: boolean;
}

/** ImageJ's shrink factor and ball trimming for a radius: large balls work on a shrunken image. */
export function rollingBallGeometry(radiusPx: number): { shrinkFactor: number; arcTrimPercent: number } {
  if (radiusPx <= 10) return { shrinkFactor: 1, arcTrimPercent: 24 };
  if (radiusPx <= 30) return { shrinkFactor: 2, arcTrimPercent: 24 };
  if (radiusPx <= 100) return { shrinkFactor: 4, arcTrimPercent: 32 };
  return { shrinkFactor: 8, arcTrimPercent: 40 };
}

/** Ball heights z(dx, dy) = √(r² − dx² − dy²) (0 outside the sphere) on a (2h+1)² patch, h = round(r − trim). */
function makeBall(radius: number, arcTrimPercent: number): { half: number; z: Float32Array } {
  const trim = Math.floor((arcTrimPercent * radius) / 100);
  const half = Math.max(0, Math.round(radius - trim));
  const w = 2 * half + 1;
  const z = new Float32Array(w * w);
  const r2 = radius * radius;
  for (let y = -half; y <= half; y++) {
    for (let x = -half; x <= half; x++) {
      const t = r2 - x * x - y * y;
      z[(y + half) * w + x + half] = t > 0 ? Math.sqrt(t) : 0;
    }
  }
  return { half, z };
}

const NINTH = Math.fround(1 / 9);

/** 3×3 mean with edge pixels replicated (sum × float32(1/9), as ImageJ). */
function mean3x3(f: Float32Array, w: number, h: number): Float32Array {
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const y0 = y > 0 ? y - 1 : 0;
    const y2 = y < h - 1 ? y + 1 : h - 1;
    for (let x = 0; x < w; x++) {
      const x0 = x > 0 ? x - 1 : 0;
      const x2 = x < w - 1 ? x + 1 : w - 1;
      out[y * w + x] =
        Math.fround((f[y0 * w + x0] + f[y0 * w + x] + f[y0 * w + x2] + f[y * w + x0] + f[y * w + x] + f[y * w + x2] + f[y2 * w + x0] + f[y2 * w + x] + f[y2 * w + x2]) * NINTH);
    }
  }
  return out;
}

/** Minimum over shrink×shrink blocks. */
function shrink(f: Float32Array, w: number, h: number, s: number): { data: Float32Array; w: number; h: number } {
  const sw = Math.ceil(w / s);
  const sh = Math.ceil(h / s);
  const out = new Float32Array(sw * sh).fill(Infinity);
  for (let y = 0; y < h; y++) {
    const row = Math.floor(y / s) * sw;
    for (let x = 0; x < w; x++) {
      const k = row + Math.floor(x / s);
      const v = f[y * w + x];
      if (v < out[k]) out[k] = v;
    }
  }
  return { data: out, w: sw, h: sh };
}

/**
 * Grey opening with the ball: at each ball position, lift it until it touches the surface; the
 * background is the highest ball surface over each pixel. Ball centres also lie outside the image
 * (up to the ball's half width), touching only the pixels inside, as in ImageJ.
 */
function rollBall(f: Float32Array, w: number, h: number, ball: { half: number; z: Float32Array }): Float32Array {
  const { half, z } = ball;
  const bw = 2 * half + 1;
  // erosion over centres c in [−half, w+half) × [−half, h+half): e(c) = min over ball pixels p inside the image of f(p) − z(p − c)
  const ew = w + 2 * half;
  const eh = h + 2 * half;
  const e = new Float32Array(ew * eh);
  for (let cy = -half; cy < h + half; cy++) {
    for (let cx = -half; cx < w + half; cx++) {
      let m = Infinity;
      const ya = Math.max(0, cy - half);
      const yb = Math.min(h - 1, cy + half);
      const xa = Math.max(0, cx - half);
      const xb = Math.min(w - 1, cx + half);
      for (let y = ya; y <= yb; y++) {
        const zr = (y - cy + half) * bw + half - cx;
        const fr = y * w;
        for (let x = xa; x <= xb; x++) {
          const v = f[fr + x] - z[zr + x];
          if (v < m) m = v;
        }
      }
      e[(cy + half) * ew + cx + half] = m;
    }
  }
  // dilation: bg(p) = max over ball centres c of e(c) + z(p − c)
  const bg = new Float32Array(w * h);
  for (let py = 0; py < h; py++) {
    for (let px = 0; px < w; px++) {
      let m = -Infinity;
      for (let cy = py - half; cy <= py + half; cy++) {
        const zr = (py - cy + half) * bw + half + px;
        const er = (cy + half) * ew + half;
        for (let cx = px - half; cx <= px + half; cx++) {
          const v = e[er + cx] + z[zr - cx];
          if (v > m) m = v;
        }
      }
      bg[py * w + px] = m;
    }
  }
  return bg;
}

/** Linear interpolation arrays: small pixel i sits at the centre of its block, (i + 0.5)·s − 0.5; ends extrapolated. */
function interpolationAxis(n: number, sn: number, s: number): { i0: Int32Array; w: Float32Array } {
  const i0 = new Int32Array(n);
  const w = new Float32Array(n);
  for (let x = 0; x < n; x++) {
    const pos = (x + 0.5) / s - 0.5;
    let i = Math.floor(pos);
    if (i > sn - 2) i = sn - 2;
    if (i < 0) i = 0;
    i0[x] = i;
    w[x] = sn > 1 ? pos - i : 0;
  }
  return { i0, w };
}

function enlarge(small: Float32Array, sw: number, sh: number, w: number, h: number, s: number): Float32Array {
  const f = Math.fround;
  const ax = interpolationAxis(w, sw, s);
  const ay = interpolationAxis(h, sh, s);
  // along x for every small row, then along y; float32 arithmetic as in ImageJ
  const rows = new Float32Array(sh * w);
  for (let j = 0; j < sh; j++) {
    for (let x = 0; x < w; x++) {
      const i = ax.i0[x];
      const wl = f(1 - ax.w[x]);
      const a = small[j * sw + Math.min(i, sw - 1)];
      const b = small[j * sw + Math.min(i + 1, sw - 1)];
      rows[j * w + x] = f(f(a * wl) + f(b * f(1 - wl)));
    }
  }
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const j = ay.i0[y];
    const wt = f(1 - ay.w[y]);
    const j1 = Math.min(j + 1, sh - 1);
    for (let x = 0; x < w; x++) out[y * w + x] = f(f(rows[j * w + x] * wt) + f(rows[j1 * w + x] * f(1 - wt)));
  }
  return out;
}

/**
 * The rolling-ball background of a plane as float64 (in the image's units; for a light
 * background the ball rolls over the top of the surface).
 */
export function rollingBallBackground(data: ArrayLike<number>, width: number, height: number, options: SubtractBackgroundOptions): Float32Array {
  const { radiusPx, lightBackground } = options;
  const smooth = options.smooth ?? true;
  const n = width * height;
  const sign = lightBackground ? -1 : 1;
  let f: Float32Array = new Float32Array(n);
  for (let i = 0; i < n; i++) f[i] = sign * data[i];
  if (smooth) f = mean3x3(f, width, height);
  const { shrinkFactor, arcTrimPercent } = rollingBallGeometry(radiusPx);
  let bg: Float32Array;
  if (shrinkFactor > 1) {
    const small = shrink(f, width, height, shrinkFactor);
    const ball = makeBall(radiusPx / shrinkFactor, arcTrimPercent);
    const sbg = rollBall(small.data, small.w, small.h, ball);
    bg = enlarge(sbg, small.w, small.h, width, height, shrinkFactor);
  } else {
    bg = rollBall(f, width, height, makeBall(radiusPx, arcTrimPercent));
  }
  if (lightBackground) for (let i = 0; i < n; i++) bg[i] = -bg[i];
  return bg;
}

/**
 * ImageJ's Process › Subtract Background with the rolling ball: returns a new plane of the same
 * type. uint8/uint16: round(value − background), clamped, with a light background
 * round(value − background + 255 (65535)) so that the background becomes white; float32:
 * value − background (no offset). NaN pixels stay NaN in float32.
 * @throws FocalError `E_ARGUMENT` for a radius ≤ 0 or a size mismatch.
 */
export function subtractBackground(data: PixelArray, width: number, height: number, options: SubtractBackgroundOptions): PixelArray {
  if (!(options.radiusPx > 0) || !Number.isFinite(options.radiusPx)) throw new FocalError('E_ARGUMENT', `radiusPx: must be a positive number, got ${options.radiusPx}`);
  if (data.length !== width * height) throw new FocalError('E_ARGUMENT', `data: ${data.length} pixels for a ${width}×${height} plane`);
  const dtype = dtypeOf(data);
  const bg = rollingBallBackground(data, width, height, options);
  const out = data.slice();
  if (dtype === 'float32') {
    for (let i = 0; i < out.length; i++) out[i] = options.createBackground ? bg[i] : data[i] - bg[i];
    return out;
  }
  const top = dtype === 'uint8' ? 255 : 65535;
  const offset = (options.lightBackground ? top : 0) + 0.5;
  for (let i = 0; i < out.length; i++) {
    // float32 arithmetic, as ImageJ: (value − background) + offset, then truncated
    const v = Math.floor(options.createBackground ? Math.fround(bg[i] + 0.5) : Math.fround(Math.fround(data[i] - bg[i]) + offset));
    out[i] = v < 0 ? 0 : v > top ? top : v;
  }
  return out;
}
