import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readTiff, type Stack } from '../../core/index.js';
import { applyThreshold, autoThreshold, THRESHOLD_METHODS, thresholdHistogram, thresholdLimits, type ThresholdMethod } from './threshold.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, 'fixtures', 'threshold');
const IJ_JAR = process.env.IMAGEJ_JAR ?? '/usr/share/java/ij.jar';

interface IjRow {
  file: string;
  method: ThresholdMethod;
  dark: boolean;
  lower: number;
  upper: number;
}

function parseCsv(text: string): IjRow[] {
  return text
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [file, method, dark, lower, upper] = line.split(',');
      return { file, method: method as ThresholdMethod, dark: dark === '1', lower: Number(lower), upper: Number(upper) };
    });
}

/** Equal up to the 9 decimals the macro prints (32-bit limits are not integers). */
function sameLimit(focal: number, ij: number): boolean {
  return Math.abs(focal - ij) <= 1e-6 * Math.max(1, Math.abs(ij));
}

async function loadImages(): Promise<Map<string, Stack>> {
  const images = new Map<string, Stack>();
  for (const f of readdirSync(fixtures).filter((n) => n.endsWith('.tif')).sort()) images.set(f, await readTiff(join(fixtures, f)));
  return images;
}

function compare(rows: IjRow[], images: Map<string, Stack>): string[] {
  const bad: string[] = [];
  for (const r of rows) {
    const s = images.get(r.file)!;
    const got = thresholdLimits(s.planes[0], s.dtype, r.method, { darkBackground: r.dark });
    if (!sameLimit(got.lower, r.lower) || !sameLimit(got.upper, r.upper)) {
      bad.push(`${r.file} ${r.method}${r.dark ? ' dark' : ''}: ImageJ [${r.lower}, ${r.upper}], Focal [${got.lower}, ${got.upper}]`);
    }
  }
  return bad;
}

describe('thresholdLimits agrees with ImageJ 1.53t (committed fixtures)', () => {
  it('every method, dark and not, on 8-, 16- and 32-bit test images', async () => {
    const rows = parseCsv(readFileSync(join(fixtures, 'imagej-thresholds.csv'), 'utf8'));
    const images = await loadImages();
    expect(images.size).toBe(16);
    expect(rows.length).toBe(images.size * THRESHOLD_METHODS.length * 2);
    expect(new Set(rows.map((r) => r.method))).toEqual(new Set(THRESHOLD_METHODS));
    expect(compare(rows, images)).toEqual([]);
  });
});

const haveImageJ = existsSync(IJ_JAR) && ['/usr/bin/xvfb-run', '/bin/xvfb-run'].some((p) => existsSync(p));
const liveReason = `ImageJ (${IJ_JAR}) or xvfb-run is not installed (scripts/install-system-deps.sh); required when CI is set`;

describe('thresholdLimits agrees with ImageJ run live', () => {
  if (!haveImageJ && !process.env.CI) {
    it.skip(`skipped: ${liveReason}`, () => {});
    return;
  }
  it('one ImageJ run over all test images and methods gives Focal\'s limits', async () => {
    expect(haveImageJ, liveReason).toBe(true);
    const tmp = mkdtempSync(join(tmpdir(), 'focal-ij-threshold-'));
    try {
      const out = join(tmp, 'ij.csv');
      const t0 = performance.now();
      await promisify(execFile)('xvfb-run', ['-a', 'java', '-jar', IJ_JAR, '-batch', join(fixtures, 'thresholds.ijm'), `${fixtures}|${out}`], { timeout: 60_000 });
      const seconds = (performance.now() - t0) / 1000;
      console.info(`ImageJ thresholds: ${seconds.toFixed(2)} s for one JVM run`);
      const rows = parseCsv(readFileSync(out, 'utf8'));
      expect(rows.length).toBe(16 * 32);
      expect(compare(rows, await loadImages())).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 90_000);
});

describe('autoThreshold', () => {
  const bimodal = new Float64Array(256);
  for (let i = 0; i < 256; i++) bimodal[i] = Math.round(1000 * Math.exp(-((i - 60) ** 2) / 200) + 600 * Math.exp(-((i - 180) ** 2) / 300));

  it('splits a clean bimodal histogram between the peaks for every method', () => {
    for (const m of THRESHOLD_METHODS) {
      const t = autoThreshold(bimodal, m);
      if (m === 'Percentile') expect(t).toBeLessThan(120); // half the pixels: inside the larger, lower peak
      else expect(t, m).toBeGreaterThan(75); // beyond 1.5 σ of the lower peak
      expect(t, m).toBeLessThan(165);
    }
  });

  it('Mean, Percentile and Otsu on hand-checked histograms', () => {
    expect(autoThreshold([0, 2, 0, 2], 'Mean')).toBe(2); // mean (2+6)/4 = 2
    expect(autoThreshold([1, 1, 1, 1], 'Percentile')).toBe(1); // cumulative 0.5 at bin 1
    // two spikes at 1 and 5: every split 1…4 separates them; ImageJ keeps the last (4)
    expect(autoThreshold([0, 5, 0, 0, 0, 5, 0, 0], 'Otsu')).toBe(4);
  });

  it('Intermodes and Minimum fail (−1) on a histogram that never becomes bimodal, as in ImageJ', () => {
    const tri = Array.from({ length: 64 }, (_, i) => 32 - Math.abs(i - 32));
    expect(autoThreshold(tri, 'Intermodes')).toBe(-1);
    expect(autoThreshold(tri, 'Minimum')).toBe(-1);
  });

  it('works for other histogram lengths', () => {
    const h = Array.from({ length: 1024 }, (_, i) => (i < 300 ? 10 : i > 700 ? 5 : 0));
    const t = autoThreshold(h, 'Otsu');
    expect(t).toBeGreaterThanOrEqual(299);
    expect(t).toBeLessThan(701);
  });

  it('rejects bad histograms and methods with E_ARGUMENT naming the field', () => {
    expect(() => autoThreshold([1], 'Otsu')).toThrow(/histogram/);
    expect(() => autoThreshold([1, -1, 2], 'Otsu')).toThrow(/histogram: bin 1/);
    expect(() => autoThreshold([1, NaN], 'Otsu')).toThrow(/histogram/);
    expect(() => autoThreshold([1, 2], 'Bogus' as ThresholdMethod)).toThrow(/method: unknown/);
    expect(autoThreshold([0, 0, 0], 'Li')).toBe(0);
  });
});

describe('thresholdLimits and applyThreshold', () => {
  it('8-bit: dark → [t+1, 255], light → [0, t]; mask is 255 inside the limits', () => {
    const data = new Uint8Array([10, 10, 10, 200, 200, 10]);
    const dark = thresholdLimits(data, 'uint8', 'Otsu', { darkBackground: true });
    const light = thresholdLimits(data, 'uint8', 'Otsu', { darkBackground: false });
    expect(dark).toEqual({ lower: light.upper + 1, upper: 255, threshold: light.upper });
    expect(light.lower).toBe(0);
    expect([...applyThreshold(data, dark.lower, dark.upper)]).toEqual([0, 0, 0, 255, 255, 0]);
    expect([...applyThreshold(data, light.lower, light.upper)]).toEqual([255, 255, 255, 0, 0, 255]);
  });

  it('16-bit maps the 8-bit bin back to a pixel value; a constant image gives lower = upper = value', () => {
    const data = new Uint16Array([1000, 1000, 1000, 3000, 3000, 3000]);
    const r = thresholdLimits(data, 'uint16', 'Otsu', { darkBackground: true });
    expect(r.upper).toBe(65535);
    expect(r.lower).toBeGreaterThan(1000);
    expect(r.lower).toBeLessThanOrEqual(3000);
    expect(thresholdLimits(new Uint16Array(4).fill(7), 'uint16', 'Li', { darkBackground: true })).toEqual({ lower: 7, upper: 7, threshold: 7 });
  });

  it('32-bit: NaN pixels count in bin 0 for the histogram (like ImageJ) but are never foreground', () => {
    const data = new Float32Array([NaN, 0, 0, 0, 1, 1]);
    const { histogram, min, max } = thresholdHistogram(data, 'float32');
    expect([min, max]).toEqual([0, 1]);
    expect(histogram[0]).toBe(4);
    expect(histogram[255]).toBe(2);
    const r = thresholdLimits(data, 'float32', 'Otsu', { darkBackground: true });
    expect(r.upper).toBe(1e30); // ImageJ's open end
    expect([...applyThreshold(data, r.lower, r.upper)]).toEqual([0, 0, 0, 0, 255, 255]);
    expect(() => thresholdLimits(new Float32Array([NaN, NaN]), 'float32', 'Otsu', { darkBackground: true })).toThrow(/every pixel is NaN/);
  });

  it('rejects empty images and bad limits', () => {
    expect(() => thresholdLimits(new Uint8Array(0), 'uint8', 'Otsu', { darkBackground: true })).toThrow(/data: the image is empty/);
    expect(() => thresholdLimits(new Uint16Array(4), 'uint8', 'Otsu', { darkBackground: true })).toThrow(/dtype: 'uint8' does not match/);
    expect(() => applyThreshold(new Uint8Array(2), 5, 4)).toThrow(/lower/);
    expect(() => applyThreshold(new Uint8Array(2), NaN, 4)).toThrow(/NaN/);
  });
});
