/**
 * Live agreement with ImageJ: runs scripts/analyze-particles.ijm (Analyze Particles on every
 * case of the fixtures, then Process › Binary incl. Watershed) in ONE ImageJ start on the
 * committed fixture images, and compares Focal with what ImageJ reports now.
 *
 * Needs xvfb-run, java and ImageJ (Debian: imagej, xvfb). Without them the test is skipped,
 * except in CI (process.env.CI), where it fails.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { watershed } from './binary.js';
import { compareParticles, focalParticles, readCases, readImageJParticles, readImageJSummary, readPlane } from './imagej-fixtures.js';
import { analyzeParticles } from './particles.js';

const run = promisify(execFile);
const FIXTURES = fileURLToPath(new URL('./fixtures/particles', import.meta.url));
const MACRO = fileURLToPath(new URL('../../scripts/analyze-particles.ijm', import.meta.url));
const IJ_JAR = process.env.IMAGEJ_JAR ?? '/usr/share/java/ij.jar';

async function missingTools(): Promise<string | undefined> {
  const missing: string[] = [];
  for (const [tool, args] of [['xvfb-run', ['--help']], ['java', ['-version']]] as const) {
    try {
      await run(tool, [...args], { timeout: 30_000 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') missing.push(tool);
    }
  }
  if (!existsSync(IJ_JAR)) missing.push(IJ_JAR);
  return missing.length > 0 ? `needs ${missing.join(', ')} (Debian packages imagej, xvfb)` : undefined;
}

const missing = await missingTools();
const skip = missing !== undefined && !process.env.CI;
if (skip) console.warn(`cellcount imagej-live: skipped: ImageJ check ${missing}`);

describe('cellcount: live agreement with ImageJ (one JVM start)', () => {
  const out = mkdtempSync(join(tmpdir(), 'focal-particles-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it.skipIf(skip)(`Analyze Particles and Watershed agree with ImageJ run now${skip ? ` (skipped: ${missing})` : ''}`, async () => {
    if (missing) throw new Error(`CI must provide ImageJ: ${missing}`);
    await run('xvfb-run', ['-a', 'java', '-jar', IJ_JAR, '-batch', MACRO, `${FIXTURES}|${out}`], { timeout: 180_000 });
    const summary = readImageJSummary(join(out, 'summary.tsv'));
    const cases = readCases(FIXTURES);
    expect(cases.length).toBeGreaterThanOrEqual(15);
    for (const c of cases) {
      const { particles } = await focalParticles(FIXTURES, c);
      const s = summary.get(c.name);
      expect(s, c.name).toBeDefined();
      expect(particles.length, c.name).toBe(s!.count);
      expect(particles.reduce((a, p) => a + p.areaPx, 0), c.name).toBe(s!.totalArea);
      const d = compareParticles(particles, readImageJParticles(join(out, `${c.name}.tsv`)));
      expect(d.mismatch, c.name).toBeUndefined();
      expect(Math.max(d.perimeter, d.circularity, d.centroid, d.mean), c.name).toBeLessThan(1e-6);
    }
    // watershed of touching discs: same particle count and total area as ImageJ's
    const discs = await readPlane(join(FIXTURES, 'discs.tif'));
    const ours = analyzeParticles(watershed(discs.data, discs.width, discs.height), discs.width, discs.height).particles;
    const ij = summary.get('discs-watershed')!;
    expect(ours.length).toBe(ij.count);
    expect(ours.reduce((a, p) => a + p.areaPx, 0)).toBe(ij.totalArea);
  }, 200_000);
});
