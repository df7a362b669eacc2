/**
 * Synthetic z-stack test data (from the EDOF plugin; its tests, the dataset plugin's and the EDOF
 * benchmark use it): a procedural in-focus specimen (fluorescent blobs of many sizes
 * on a faint texture), a curved / tilted specimen surface, and a z-stack of it made with a
 * fast Gaussian defocus model (σ ∝ |z − h(x, y)|). Tests use the optics plugin's Born & Wolf
 * simulator instead where it is fast enough; the benchmark's 1024² × 41 stack uses this one.
 */
import { gaussianBlur2d } from '../imaging/gaussian.js';
import { mulberry32 } from '../numeric/random.js';

/**
 * A textured fluorescent specimen in [0, 1]: Gaussian spots (σ 0.7–3 px) densely covering
 * the field plus a faint background, so that every region has in-focus detail.
 * @param density spots per pixel (default 0.02).
 */
export function texturedSpecimen(width: number, height: number, seed = 1, density = 0.02): Float32Array {
  const rnd = mulberry32(seed);
  const img = new Float32Array(width * height);
  const count = Math.round(width * height * density);
  for (let k = 0; k < count; k++) {
    const cx = rnd() * width;
    const cy = rnd() * height;
    const sigma = 0.7 + 2.3 * rnd() * rnd();
    const amp = 0.3 + 0.7 * rnd();
    const r = Math.ceil(3 * sigma);
    const inv = 1 / (2 * sigma * sigma);
    for (let y = Math.max(0, Math.floor(cy - r)); y <= Math.min(height - 1, Math.ceil(cy + r)); y++) {
      for (let x = Math.max(0, Math.floor(cx - r)); x <= Math.min(width - 1, Math.ceil(cx + r)); x++) {
        const dx = x - cx;
        const dy = y - cy;
        img[y * width + x] += amp * Math.exp(-(dx * dx + dy * dy) * inv);
      }
    }
  }
  let max = 0;
  for (const v of img) if (v > max) max = v;
  for (let i = 0; i < img.length; i++) img[i] = 0.05 + (0.95 * img[i]) / max;
  return img;
}

/**
 * Specimen height h(x, y), µm: offset, a tilt along x and a dome,
 * h = offsetUm + tiltUm·(x/(w−1) − ½) + domeUm·(1 − r²), with r the distance from the
 * image centre divided by the half diagonal (so the dome is domeUm high at the centre, 0 at the corners).
 */
export function curvedSurface(width: number, height: number, options: { tiltUm?: number; domeUm?: number; offsetUm?: number } = {}): Float32Array {
  const tilt = options.tiltUm ?? 0;
  const dome = options.domeUm ?? 0;
  const off = options.offsetUm ?? 0;
  const h = new Float32Array(width * height);
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const r2max = cx * cx + cy * cy || 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const dx = x - cx;
      const dy = y - cy;
      h[y * width + x] = off + tilt * (width > 1 ? x / (width - 1) - 0.5 : 0) + dome * Math.max(0, 1 - (dx * dx + dy * dy) / r2max);
    }
  }
  return h;
}

/**
 * A z-stack of `image` seen with a spatially varying Gaussian defocus: at focus position z
 * (µm) a pixel is blurred with σ = sigmaPerUm·|z − h(x, y)| (σ ≥ minSigmaPx is blended from
 * blur levels every `levelStepPx` px, each made from the previous level; tent weights between
 * the two nearest levels).
 * @returns one Float32Array per z position.
 */
export function gaussianDefocusStack(
  image: Float32Array,
  width: number,
  height: number,
  heightUm: Float32Array,
  zUm: readonly number[],
  options: { sigmaPerUm?: number; levelStepPx?: number } = {},
): Float32Array[] {
  const k = options.sigmaPerUm ?? 1;
  const step = options.levelStepPx ?? 0.25;
  let maxSigma = 0;
  for (const z of zUm) for (let i = 0; i < heightUm.length; i++) maxSigma = Math.max(maxSigma, k * Math.abs(z - heightUm[i]));
  const nLevels = Math.ceil(maxSigma / step) + 2;
  // each level blurs the previous one by the missing variance (σ_l² = σ_{l−1}² + δ²): small kernels
  const levels: Float32Array[] = [image];
  for (let l = 1; l < nLevels; l++) {
    const delta = Math.sqrt((l * step) ** 2 - ((l - 1) * step) ** 2);
    levels.push(gaussianBlur2d(levels[l - 1], width, height, delta, delta, { truncate: 3.5 }));
  }
  return zUm.map((z) => {
    const out = new Float32Array(width * height);
    for (let i = 0; i < out.length; i++) {
      const s = (k * Math.abs(z - heightUm[i])) / step;
      const l = Math.floor(s);
      const f = s - l;
      out[i] = (1 - f) * levels[l][i] + f * levels[l + 1][i];
    }
    return out;
  });
}
