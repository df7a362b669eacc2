import { describe, expect, it } from 'vitest';
import { Xoshiro128 } from '../random.js';
import { convolveDirect } from './convolve.js';
import { createBackend, loadPffft, pffftStatus, type BackendChoice } from './spectral.js';

describe('spectral backends (JS float64, PFFFT float32)', () => {
  it('loads PFFFT on demand', async () => {
    const status = await loadPffft();
    expect(status.available).toBe(true);
    expect(pffftStatus().available).toBe(true);
  });

  it('forward · filter → inverse and filterPass give the circular convolution, both backends', async () => {
    await loadPffft();
    const nx = 64, ny = 32, n = nx * ny;
    const rng = new Xoshiro128(11);
    const x = Float32Array.from({ length: n }, () => rng.uniform() * 100);
    const k = Float32Array.from({ length: 25 }, () => rng.uniform());
    const box = new Float32Array(n);
    for (let j = 0; j < 5; j++) for (let i = 0; i < 5; i++) box[((j - 2 + ny) % ny) * nx + ((i - 2 + nx) % nx)] = k[j * 5 + i];
    const want = convolveDirect(x, nx, ny, k, 5, 5, { boundary: 'wrap' });
    let peak = 0;
    for (const v of want) peak = Math.max(peak, Math.abs(v));
    for (const choice of ['js', 'pffft-wasm'] as BackendChoice[]) {
      const b = createBackend(choice, nx, ny, 1);
      try {
        expect(b.name).toBe(choice);
        b.forward(box);
        const otf = b.toFilter(1 / n);
        b.forward(x);
        b.multiply(otf, false);
        const out = new Float32Array(n);
        b.inverse(out);
        const viaPass = new Float32Array(n);
        b.filterPass(x, otf, false, (row, data, offset) => viaPass.set(data.subarray(offset, offset + nx), row * nx));
        let d1 = 0, d2 = 0;
        for (let i = 0; i < n; i++) {
          d1 = Math.max(d1, Math.abs(out[i] - want[i]));
          d2 = Math.max(d2, Math.abs(viaPass[i] - want[i]));
        }
        // the backends take and return float32 boxes: the JS one rounds only its output (float64 inside)
        const tol = choice === 'js' ? 1e-7 : 1e-5;
        expect(d1 / peak).toBeLessThan(tol);
        expect(d2 / peak).toBeLessThan(tol);
      } finally {
        b.dispose();
      }
    }
  });
});
