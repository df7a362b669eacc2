import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readTiff } from '../../core/index.js';
import { HE_PIXEL_UM, makeHeTissue } from '../../scripts/make-sample-he.js';
import { colourDeconvolution } from './colour.js';
import { applyThreshold, thresholdLimits } from './threshold.js';

const sample = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'samples', 'he-tissue.tif');

describe('samples/he-tissue.tif (scripts/make-sample-he.ts)', () => {
  it('is what the generator makes (deterministic), RGB at 0.5 µm/px, and its haematoxylin channel finds the nuclei', async () => {
    const file = await readTiff(sample);
    const { stack, nuclei } = makeHeTissue();
    expect(file.rgb).toBe(true);
    expect([file.width, file.height, file.sizeC]).toEqual([512, 512, 3]);
    expect(file.calibration.pixelWidthUm).toBeCloseTo(HE_PIXEL_UM, 6);
    for (let c = 0; c < 3; c++) expect(Buffer.compare(Buffer.from(file.planes[c]), Buffer.from(stack.planes[c]))).toBe(0);
    // nuclei are dark in the haematoxylin transmittance image: Otsu (light background) selects them
    const [r, g, b] = file.planes;
    const haem = colourDeconvolution(r, g, b, 'H&E').transmittance[0];
    const lim = thresholdLimits(haem, 'uint8', 'Otsu', { darkBackground: false });
    const mask = applyThreshold(haem, lim.lower, lim.upper);
    let inside = 0;
    let hits = 0;
    for (const nu of nuclei) {
      const x = Math.round(nu.x);
      const y = Math.round(nu.y);
      if (x < 0 || y < 0 || x >= 512 || y >= 512) continue;
      inside++;
      if (mask[y * 512 + x] === 255) hits++;
    }
    expect(hits / inside).toBeGreaterThan(0.95);
    const area = nuclei.reduce((s, nu) => s + Math.PI * nu.a * nu.b, 0) / (512 * 512);
    const fraction = mask.reduce((s, v) => s + (v ? 1 : 0), 0) / mask.length;
    expect(Math.abs(fraction - area)).toBeLessThan(0.03);
  });
});
