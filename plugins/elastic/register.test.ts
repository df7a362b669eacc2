import { describe, expect, it } from 'vitest';
import { isFocalError } from '../../core/index.js';
import { coregisterElastic, registerElastic, warpImage } from './register.js';
import { endpointError, syntheticPair, texturedImage } from './synthetic.js';

const N = 128;
const MARGIN = 8;
const zero = new Float32Array(N * N);

/** Runs one synthetic case; logs the measured error and time (they are quoted in docs/elastic.md). */
function run(label: string, metric: 'ssd' | 'ncc' | 'mi', remap: (v: number) => number) {
  const p = syntheticPair(N, N, 7, { maxDisplacementPx: 4, noiseSd: 10 });
  const moving = p.moving.map(remap);
  const t0 = performance.now();
  const r = registerElastic({ data: moving, width: N, height: N }, { data: p.fixed, width: N, height: N }, { metric, levels: 3, gridSpacingPx: 16, bendingWeight: 100, iterations: 100 });
  const ms = performance.now() - t0;
  const before = endpointError(zero, zero, p.ux, p.uy, N, N, MARGIN);
  const after = endpointError(r.ux, r.uy, p.ux, p.uy, N, N, MARGIN);
  console.log(`elastic ${label} ${N}²: mean endpoint error ${after.mean.toFixed(3)} px (max ${after.max.toFixed(2)}), before ${before.mean.toFixed(2)} px (max ${before.max.toFixed(2)}), ${ms.toFixed(0)} ms`);
  return { before, after, r };
}

describe('registerElastic on synthetic smooth deformations (128², max 4 px, noise σ = 1 % of range)', () => {
  it('ssd recovers the field well below 0.5 px', () => {
    const { before, after, r } = run('ssd', 'ssd', (v) => v);
    expect(before.mean).toBeGreaterThan(1);
    expect(after.mean).toBeLessThan(0.2);
    expect(after.max).toBeLessThan(0.6);
    expect(r.levels.map((l) => l.level)).toEqual([2, 1, 0]);
    for (const l of r.levels) expect(l.metricAfter).toBeLessThanOrEqual(l.metricBefore);
  });

  it('maxSamples evaluates large levels on a regular subgrid and stays accurate', () => {
    const p = syntheticPair(N, N, 7, { maxDisplacementPx: 4, noiseSd: 10 });
    // 128² = 16384 pixels > 4096: level 0 uses every second pixel (64²), level 1 (64²) all of them
    const r = registerElastic({ data: p.moving, width: N, height: N }, { data: p.fixed, width: N, height: N }, { levels: 3, maxSamples: 4096 });
    const e = endpointError(r.ux, r.uy, p.ux, p.uy, N, N, MARGIN);
    console.log(`elastic ssd 128², maxSamples 4096: mean endpoint error ${e.mean.toFixed(3)} px`);
    expect(e.mean).toBeLessThan(0.25);
    expect(() => registerElastic({ data: p.moving, width: N, height: N }, { data: p.fixed, width: N, height: N }, { maxSamples: 10 })).toThrow(/maxSamples/);
  });

  it('ncc recovers the field under a linear intensity change', () => {
    const { after } = run('ncc (moving × 0.3 + 500)', 'ncc', (v) => 0.3 * v + 500);
    expect(after.mean).toBeLessThan(0.2);
  });

  it('mi recovers the field of a multimodal pair (inverted, non-linearly remapped moving image)', () => {
    const { after } = run('mi (moving → (1000 − v)^1.5 / 30)', 'mi', (v) => Math.max(0, 1000 - v) ** 1.5 / 30);
    expect(after.mean).toBeLessThan(0.2);
  });

  it('affine initialisation recovers a rotation + scaling + shift, and the field includes it', () => {
    // texture on a padded canvas so that the fixed image has no fill values at its corners
    const W = 128, P = 16, BW = W + 2 * P;
    const big = texturedImage(BW, BW, 3);
    const moving = new Float32Array(W * W);
    for (let y = 0; y < W; y++) for (let x = 0; x < W; x++) moving[y * W + x] = big[(y + P) * BW + x + P];
    // fixed(x) = moving(A x + b), A = 1.02·R(3°), b: rotation about the centre + (2.5, −1.5)
    const a = (3 * Math.PI) / 180, s = 1.02;
    const A = [s * Math.cos(a), -s * Math.sin(a), s * Math.sin(a), s * Math.cos(a)];
    const c = (W - 1) / 2;
    const b = [c - A[0] * c - A[1] * c + 2.5, c - A[2] * c - A[3] * c - 1.5];
    const tx = new Float32Array(W * W), ty = new Float32Array(W * W);
    const sx = new Float32Array(W * W), sy = new Float32Array(W * W);
    for (let y = 0; y < W; y++) {
      for (let x = 0; x < W; x++) {
        tx[y * W + x] = A[0] * x + A[1] * y + b[0] - x;
        ty[y * W + x] = A[2] * x + A[3] * y + b[1] - y;
        sx[y * W + x] = tx[y * W + x] + P;
        sy[y * W + x] = ty[y * W + x] + P;
      }
    }
    const fixed = warpImage({ data: big, width: BW, height: BW }, sx, sy, W, W);
    const r = registerElastic({ data: moving, width: W, height: W }, { data: fixed, width: W, height: W }, { affineInit: true, affineOnly: true, levels: 3, iterations: 100 });
    const truth = [A[0], A[1], b[0], A[2], A[3], b[1]];
    for (const k of [0, 1, 3, 4]) expect(Math.abs(r.affine[k] - truth[k])).toBeLessThan(2e-3);
    for (const k of [2, 5]) expect(Math.abs(r.affine[k] - truth[k])).toBeLessThan(0.1);
    const e = endpointError(r.ux, r.uy, tx, ty, W, W, 0);
    console.log(`elastic affine-only (ssd) ${W}²: mean endpoint error ${e.mean.toFixed(3)} px (max ${e.max.toFixed(3)})`);
    expect(e.mean).toBeLessThan(0.05);
  });

  it('coregister finds the region in a larger image, then refines affine + elastic', () => {
    const p = syntheticPair(192, 160, 12, { maxDisplacementPx: 3, noiseSd: 10 });
    // fixed: a 96×80 window at (57, 41) of the deformed image; the moving image is the whole undeformed one
    const fw = 96, fh = 80, ox = 57, oy = 41;
    const fixed = new Float32Array(fw * fh);
    const tx = new Float32Array(fw * fh), ty = new Float32Array(fw * fh);
    for (let y = 0; y < fh; y++) {
      for (let x = 0; x < fw; x++) {
        fixed[y * fw + x] = p.fixed[(y + oy) * 192 + x + ox];
        tx[y * fw + x] = p.ux[(y + oy) * 192 + x + ox] + ox;
        ty[y * fw + x] = p.uy[(y + oy) * 192 + x + ox] + oy;
      }
    }
    const r = coregisterElastic({ data: p.moving, width: 192, height: 160 }, { data: fixed, width: fw, height: fh }, { levels: 2, iterations: 60 });
    expect(Math.abs(r.match.x - ox)).toBeLessThanOrEqual(3);
    expect(Math.abs(r.match.y - oy)).toBeLessThanOrEqual(3);
    expect(r.match.ncc).toBeGreaterThan(0.5);
    const e = endpointError(r.ux, r.uy, tx, ty, fw, fh, 8);
    console.log(`elastic coregister ${fw}×${fh} in 192×160: match (${r.match.x}, ${r.match.y}) vs (${ox}, ${oy}), mean endpoint error ${e.mean.toFixed(3)} px`);
    expect(e.mean).toBeLessThan(0.3);
  });
});

describe('bad input', () => {
  const img = { data: new Float32Array(64 * 64).fill(1), width: 64, height: 64 };
  it('NaN pixels are rejected, naming the image', () => {
    const bad = { ...img, data: Float32Array.from(img.data) };
    bad.data[70] = NaN;
    const err = (() => { try { registerElastic(bad, img); } catch (e) { return e; } })();
    expect(isFocalError(err) && err.code).toBe('E_ARGUMENT');
    expect((err as { details: { field: string } }).details.field).toBe('moving');
    expect((err as Error).message).toMatch(/pixel \(6, 1\) is NaN/);
  });
  it('too many pyramid levels and a moving image smaller than the fixed one for coregister', () => {
    expect(() => registerElastic(img, img, { levels: 4 })).toThrow(/levels: 4 pyramid levels .* at most 3/);
    const small = { data: new Float32Array(32 * 32), width: 32, height: 32 };
    expect(() => coregisterElastic(small, img)).toThrow(/moving: the image to search \(32×32\) must be at least as large as the fixed image \(64×64\)/);
  });
});
