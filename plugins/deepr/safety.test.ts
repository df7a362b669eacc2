import { describe, expect, it } from 'vitest';

describe('deepr.autofocus on a rendered large disc (demo model, held-out family)', () => {
  // issue 17's ringing requirement: demo model 0.4.0 (cells in its training data; the disc family
  // held out) stays under the in-focus level (0.3.0 overshot this disc by 13 % at 2 µm)
  it('in focus (noise-free) and defocused (noisy), the output never overshoots the in-focus intensity by > 5 % inside the disc', async () => {
    const { autofocus } = await import('./ops/autofocus.js');
    const { createStack, testContext } = await import('../../core/index.js');
    const { defocusSeries } = await import('../../core/imaging.js');
    const { renderSpecimen } = await import('../../core/specimens.js');
    const n = 128;
    const r = renderSpecimen({ family: 'disc', widthPx: n, heightPx: n, pixelSizeUm: 0.325, seed: 1, peakPhotons: 5000, backgroundPhotons: 10, params: { diameterUm: 20, offsetX: 0, offsetY: 0 } });
    if (r.modality !== 'fluorescence') throw new Error('fluorescence expected');
    const noisy = defocusSeries(r.image, n, n, { na: 0.75, refractiveIndex: 1, wavelengthUm: 0.53, pixelSizeUm: 0.325, defocusUm: [0, 2], photons: 5010, readNoiseE: 1.5, seed: 1 }).map((p) => Float32Array.from(p.image, (v) => Math.max(0, Math.round(v))));
    const planes = [r.image, ...noisy];
    const stack = createStack({ width: n, height: n, dtype: 'float32', sizeZ: planes.length, planes });
    const radiusPx = 10 / 0.325;
    // defocus 0, 0 and 2 µm; the op's default (raw network, safety 'off') and the consistency check
    for (const safety of ['off', 'consistency'] as const) for (const p of ((await autofocus.run(testContext(), { image: stack }, autofocus.params.parse({ safety }))) as { image: import('../../core/index.js').Stack }).image.planes) {
      const inside: number[] = [];
      for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) if (Math.hypot(x - 63.5, y - 63.5) < radiusPx - 3) inside.push(p[y * n + x]);
      inside.sort((a, b) => a - b);
      // 99th percentile: single-pixel noise excursions (±1.5 % rms at 5000 e⁻) are not overshoot
      expect(inside[Math.floor(0.99 * inside.length)]).toBeLessThan(1.05 * 5010);
    }
  }, 300000);
});
