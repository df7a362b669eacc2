/**
 * Deep-R's safety on a specimen family it never saw, rendered by the specimen library: a
 * cross-plugin check, so it lives on the top floor (a plugin imports no other plugin).
 */
import { describe, expect, it } from 'vitest';

describe('deepr.autofocus with the default safety check, on a rendered large disc (demo model)', () => {
  // KNOWN FAILURE (issue 17 open): the demo model overshoots a 20 µm disc by up to 13 % (5656 vs
  // 5010 e⁻, 99th percentile inside) and the consistency check does not catch it; `it.fails`
  // keeps this requirement visible and turns red once a model or check meets it.
  it.fails('in focus (noise-free) and defocused (noisy), the output never overshoots the in-focus intensity by > 5 % inside the disc', async () => {
    const { renderSpecimen } = await import('../plugins/specimens/render.js');
    const { autofocus } = await import('../plugins/deepr/ops/autofocus.js');
    const { createStack, defocusSeries, testContext } = await import('../core/index.js');
    const n = 128;
    const r = renderSpecimen({ family: 'disc', widthPx: n, heightPx: n, pixelSizeUm: 0.325, seed: 1, peakPhotons: 5000, backgroundPhotons: 10, params: { diameterUm: 20, offsetX: 0, offsetY: 0 } });
    if (r.modality !== 'fluorescence') throw new Error('fluorescence expected');
    const noisy = defocusSeries(r.image, n, n, { na: 0.75, refractiveIndex: 1, wavelengthUm: 0.53, pixelSizeUm: 0.325, defocusUm: [0, 2], photons: 5010, readNoiseE: 1.5, seed: 1 }).map((p) => Float32Array.from(p.image, (v) => Math.max(0, Math.round(v))));
    const planes = [r.image, ...noisy];
    const stack = createStack({ width: n, height: n, dtype: 'float32', sizeZ: planes.length, planes });
    const { image: out } = (await autofocus.run(testContext(), { image: stack }, autofocus.params.parse({ safety: 'consistency' }))) as { image: import('../core/index.js').Stack };
    const radiusPx = 10 / 0.325;
    for (const p of out.planes) {
      const inside: number[] = [];
      for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) if (Math.hypot(x - 63.5, y - 63.5) < radiusPx - 3) inside.push(p[y * n + x]);
      inside.sort((a, b) => a - b);
      // 99th percentile: single-pixel noise excursions (±1.5 % rms at 5000 e⁻) are not overshoot
      expect(inside[Math.floor(0.99 * inside.length)]).toBeLessThan(1.05 * 5010);
    }
  }, 300000);
});
