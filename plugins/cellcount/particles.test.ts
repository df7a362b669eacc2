import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compareParticles, focalParticles, readCases, readImageJParticles, readImageJSummary } from './imagej-fixtures.js';
import { analyzeParticles, labelComponents, traceOutline, tracedPerimeter } from './particles.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/particles', import.meta.url));

describe('traceOutline / tracedPerimeter', () => {
  it('returns ImageJ\'s polygon (start vertex, order) and perimeter for a diagonal particle', () => {
    // pixels (0,0), (1,1), (2,2) in a 4×4 image: one 8-connected particle
    const m = new Uint8Array(16);
    m[0] = m[5] = m[10] = 1;
    const poly = traceOutline(m, 4, 4, 0, 0);
    // ImageJ 1.53t's getSelectionCoordinates for the same particle, shifted to the origin
    expect([...poly]).toEqual([1, 1, 2, 1, 2, 2, 3, 2, 3, 3, 2, 3, 2, 2, 1, 2, 1, 1, 0, 1, 0, 0, 1, 0]);
    expect(tracedPerimeter(poly)).toBeCloseTo(6 * Math.SQRT2, 12);
  });

  it('rectangle: edge length less (2 − √2) per corner; scales with the pixel size', () => {
    const m = new Uint8Array(6 * 5);
    for (let y = 1; y < 4; y++) for (let x = 1; x < 5; x++) m[y * 6 + x] = 1;
    const poly = traceOutline(m, 6, 5, 1, 1);
    expect([...poly]).toEqual([5, 4, 1, 4, 1, 1, 5, 1]);
    expect(tracedPerimeter(poly)).toBeCloseTo(14 - 4 * (2 - Math.SQRT2), 12);
    expect(tracedPerimeter(poly, 0.5)).toBeCloseTo(0.5 * (14 - 4 * (2 - Math.SQRT2)), 12);
    expect(() => traceOutline(m, 6, 5, 2, 2)).toThrow(/top-left pixel/);
  });

  it('labels 8- and 4-connected components', () => {
    const m = new Uint8Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(labelComponents(m, 3, 3, 8).count).toBe(1);
    expect(labelComponents(m, 3, 3, 4).count).toBe(3);
    expect([...labelComponents(m, 3, 3, 4).labels]).toEqual([1, 0, 0, 0, 2, 0, 0, 0, 3]);
  });
});

describe('analyzeParticles', () => {
  it('ring with a particle in its hole: counted apart without includeHoles, swallowed with it', () => {
    const w = 9;
    const m = new Uint8Array(w * w);
    for (let y = 1; y < 8; y++) for (let x = 1; x < 8; x++) m[y * w + x] = 1;
    for (let y = 3; y < 6; y++) for (let x = 3; x < 6; x++) m[y * w + x] = 0;
    m[4 * w + 4] = 1;
    const a = analyzeParticles(m, w, w);
    expect(a.particles.map((p) => p.areaPx)).toEqual([40, 1]);
    expect(a.labels[4 * w + 4]).toBe(2);
    const b = analyzeParticles(m, w, w, undefined, { includeHoles: true });
    expect(b.particles.map((p) => p.areaPx)).toEqual([49]);
    expect(b.labels[3 * w + 3]).toBe(1);
    expect(b.particles[0].centroidXPx).toBe(4.5);
  });

  it('empty and all-foreground masks give defined results', () => {
    expect(analyzeParticles(new Uint8Array(12), 4, 3).particles).toEqual([]);
    const all = analyzeParticles(new Uint8Array(12).fill(255), 4, 3);
    expect(all.particles).toHaveLength(1);
    expect(all.particles[0].areaPx).toBe(12);
    expect(analyzeParticles(new Uint8Array(12).fill(255), 4, 3, undefined, { excludeEdges: true }).particles).toEqual([]);
    expect(() => analyzeParticles(new Uint8Array(11), 4, 3)).toThrow(/mask: has 11 pixels/);
    expect(() => analyzeParticles(new Uint8Array(12), 4, 3, undefined, { minAreaPx: 5, maxAreaPx: 2 })).toThrow(/minAreaPx/);
  });

  it('ignores NaN intensities in mean/min/max', () => {
    const m = new Uint8Array([1, 1, 0, 0]);
    const v = new Float32Array([NaN, 2, 7, 7]);
    const p = analyzeParticles(m, 2, 2, v).particles[0];
    expect([p.mean, p.min, p.max]).toEqual([2, 2, 2]);
  });
});

describe('agreement with ImageJ 1.53t Analyze Particles (committed fixtures)', () => {
  const cases = readCases(FIXTURES);
  const summary = readImageJSummary(join(FIXTURES, 'imagej', 'summary.tsv'));
  it('has the cases the fixtures promise', () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
    expect(cases.map((c) => c.name)).toContain('nuclei');
  });
  for (const c of cases) {
    it(`${c.name}: count, total area, per-particle area/bbox/min/max equal; perimeter, circularity, centroid, mean within 1e-6`, async () => {
      const { particles, width, height } = await focalParticles(FIXTURES, c);
      const ij = readImageJParticles(join(FIXTURES, 'imagej', `${c.name}.tsv`));
      const s = summary.get(c.name)!;
      expect(particles.length).toBe(s.count);
      const total = particles.reduce((a, p) => a + p.areaPx, 0);
      expect(total).toBe(s.totalArea);
      expect((100 * total) / (width * height)).toBeCloseTo(s.percentArea, 6);
      const d = compareParticles(particles, ij);
      expect(d.mismatch).toBeUndefined();
      expect(d.perimeter).toBeLessThan(1e-6);
      expect(d.circularity).toBeLessThan(1e-6);
      expect(d.centroid).toBeLessThan(1e-6);
      expect(d.mean).toBeLessThan(1e-6);
    });
  }
});

describe('analyzeParticles work lists', () => {
  it('grows its buffers for a particle larger than the initial capacity; labels can be skipped', () => {
    const w = 300;
    const h = 300;
    const m = new Uint8Array(w * h).fill(1); // 90 000 px > 65 536
    m[150 * w + 150] = 0; // a hole
    const a = analyzeParticles(m, w, h, undefined, { includeHoles: true });
    expect(a.particles[0].areaPx).toBe(90000);
    const b = analyzeParticles(m, w, h, undefined, { labels: false });
    expect(b.particles[0].areaPx).toBe(89999);
    expect(b.labels).toHaveLength(0);
  });
});

describe('analyzeParticles label image type', () => {
  it('switches from uint16 to int32 labels beyond 65 535 particles', () => {
    const w = 520;
    const m = new Uint8Array(w * w);
    for (let y = 0; y < w; y += 2) for (let x = 0; x < w; x += 2) m[y * w + x] = 1; // 67 600 isolated pixels
    const a = analyzeParticles(m, w, w);
    expect(a.particles).toHaveLength(67600);
    expect(a.labels).toBeInstanceOf(Int32Array);
    expect(a.labels[(w - 2) * w + (w - 2)]).toBe(67600);
    expect(a.labels[0]).toBe(1);
    expect(analyzeParticles(m.subarray(0, 4 * w), w, 4).labels).toBeInstanceOf(Uint16Array);
  });
});
