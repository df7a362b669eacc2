import { expect, it } from 'vitest';
import { runDeconvolution as now } from './engine.js';
import { runDeconvolution as before } from './engine-old.tmp.js';
it('split engine gives bit-identical results', () => {
  let s = 7;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (const [W, H, D] of [[61, 47, 1], [45, 39, 5]]) {
    const img = Float64Array.from({ length: W * H * D }, () => 100 * rnd());
    const k = 7;
    const kd = D > 1 ? 3 : 1;
    const psf = Float64Array.from({ length: k * k * kd }, () => rnd());
    const sum = psf.reduce((a, b) => a + b, 0);
    for (let i = 0; i < psf.length; i++) psf[i] /= sum;
    for (const algorithm of [{ kind: 'rl', tvLambda: 0 }, { kind: 'rl', tvLambda: 0.01 }, { kind: 'landweber', step: 1, nonNegative: true }, { kind: 'landweber', step: 0.5, nonNegative: false }] as const) {
      for (const boundary of ['reflect-taper', 'zero'] as const) {
        for (const tileSizePx of [undefined, 30]) {
          for (const backend of ['js', 'auto'] as const) {
            const o = { iterations: 4, boundary, tileSizePx, backend };
            const a = now(img, { width: W, height: H, depth: D }, psf, { width: k, height: k, depth: kd }, algorithm, o);
            const b = before(img, { width: W, height: H, depth: D }, psf, { width: k, height: k, depth: kd }, algorithm, o);
            expect(Buffer.from(a.image.buffer).equals(Buffer.from(b.image.buffer))).toBe(true);
            expect(a.box).toEqual(b.box);
            expect(a.tiles).toEqual(b.tiles);
          }
        }
      }
    }
  }
});
