import { execFile } from 'node:child_process';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { PixelArray } from '../../data/dtype.js';
import { createStack, planeIndex, type Stack } from '../../data/stack.js';
import { writeTiff } from './write.js';

/**
 * ImageJ reads what Focal writes: Focal writes 8/16/32-bit hyperstacks and RGB stacks,
 * one ImageJ process opens them all and prints what it sees, and the test compares.
 * Needs xvfb-run, java and ImageJ (Debian: imagej, xvfb). Without them the test is
 * skipped, except in CI (process.env.CI), where it fails.
 */
const run = promisify(execFile);
const IJ_JAR = process.env.FOCAL_IJ_JAR ?? '/usr/share/java/ij.jar';

async function missingTools(): Promise<string | undefined> {
  const missing: string[] = [];
  for (const [tool, args] of [['xvfb-run', ['--help']], ['java', ['-version']]] as const) {
    try {
      await run(tool, [...args]);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') missing.push(tool);
    }
  }
  try {
    await access(IJ_JAR);
  } catch {
    missing.push(IJ_JAR);
  }
  return missing.length > 0 ? `ImageJ check needs ${missing.join(', ')} (Debian packages imagej, xvfb)` : undefined;
}

const missing = await missingTools();
const skip = missing !== undefined && !process.env.CI;
if (skip) console.warn(`imagej-compat: skipped: ${missing}`);

const MACRO = String.raw`
list = split(File.openAsString(getArgument()), "\n");
for (i = 0; i < list.length; i++) {
  if (lengthOf(list[i]) == 0) continue;
  open(list[i]);
  getDimensions(w, h, c, z, t);
  getVoxelSize(pw, ph, pd, unit);
  fi = Stack.getFrameInterval();
  Stack.setPosition(c, z, t); last = getPixel(w - 1, h - 1);
  Stack.setPosition(1, 1, 1); first = getPixel(1, 0);
  Stack.setPosition(minOf(2, c), minOf(2, z), minOf(2, t)); mid = getPixel(2, 3); label = getInfo("slice.label");
  if (bitDepth() == 24) { last = last & 0xffffff; first = first & 0xffffff; mid = mid & 0xffffff; }
  print("RESULT\t" + getTitle() + "\t" + w + "\t" + h + "\t" + c + "\t" + z + "\t" + t + "\t" + bitDepth() + "\t" + unit + "\t" + d2s(pw, 9) + "\t" + d2s(ph, 9) + "\t" + d2s(pd, 9) + "\t" + d2s(fi, 9) + "\t" + is("composite") + "\t" + d2s(last, 6) + "\t" + d2s(first, 6) + "\t" + d2s(mid, 6) + "\t" + label);
  close();
}
print("END");
`;

interface Seen {
  w: number; h: number; c: number; z: number; t: number; bitDepth: number; unit: string;
  pw: number; ph: number; pd: number; fi: number; composite: boolean; last: number; first: number; mid: number;
  /** The slice label ImageJ shows for the plane at (min(2, c), min(2, z), min(2, t)): the channel's name when Focal wrote names. */
  label: string;
}

function makeStack(dtype: 'uint8' | 'uint16' | 'float32', sizeC: number, sizeZ: number, sizeT: number, rgb = false, calibration = {}): Stack {
  const width = 21;
  const height = 13;
  const planes: PixelArray[] = [];
  for (let t = 0; t < sizeT; t++) {
    for (let z = 0; z < sizeZ; z++) {
      for (let c = 0; c < sizeC; c++) {
        const p = dtype === 'uint8' ? new Uint8Array(width * height) : dtype === 'uint16' ? new Uint16Array(width * height) : new Float32Array(width * height);
        for (let i = 0; i < p.length; i++) {
          if (dtype === 'uint8') p[i] = (i + 50 * c + 20 * z + 9 * t) % 256;
          else if (dtype === 'uint16') p[i] = (i * 37 + 5000 * c + 700 * z + 60 * t) % 65536;
          else p[i] = i * 0.25 - 40 + 1000 * c + 100 * z + 10.5 * t;
        }
        planes.push(p);
      }
    }
  }
  return createStack({ width, height, dtype, sizeC, sizeZ, sizeT, planes, rgb, calibration });
}

/** What ImageJ's getPixel returns at (x, y) of position (c, z, t) (1-based, as in the macro). */
function expected(stack: Stack, c: number, z: number, t: number, x: number, y: number): number {
  const i = y * stack.width + x;
  if (stack.rgb) {
    const at = (ch: number): number => stack.planes[planeIndex(stack, ch, z - 1, t - 1)][i];
    return (at(0) << 16) | (at(1) << 8) | at(2);
  }
  return stack.planes[planeIndex(stack, c - 1, z - 1, t - 1)][i];
}

const cases: { name: string; stack: Stack; bitDepth: number; composite: boolean; unit: 'micron' | 'pixel' }[] = [
  { name: 'u8_c2z3.tif', stack: makeStack('uint8', 2, 3, 1, false, { pixelWidthUm: 0.5, pixelHeightUm: 0.5, zStepUm: 2 }), bitDepth: 8, composite: true, unit: 'micron' },
  { name: 'u16_c2z3t4.tif', stack: { ...makeStack('uint16', 2, 3, 4, false, { pixelWidthUm: 0.1625, pixelHeightUm: 0.1625, zStepUm: 0.3, timeStepS: 2.5 }), channelNames: ['DAPI', 'GFP µ'] }, bitDepth: 16, composite: true, unit: 'micron' },
  { name: 'u16_c3.tif', stack: makeStack('uint16', 3, 1, 1), bitDepth: 16, composite: true, unit: 'pixel' },
  { name: 'u16_single.tif', stack: makeStack('uint16', 1, 1, 1, false, { pixelWidthUm: 0.65, pixelHeightUm: 0.8 }), bitDepth: 16, composite: false, unit: 'micron' },
  { name: 'f32_z2t3.tif', stack: makeStack('float32', 1, 2, 3, false, { pixelWidthUm: 1.25, pixelHeightUm: 1.25, zStepUm: 5, timeStepS: 0.5 }), bitDepth: 32, composite: false, unit: 'micron' },
  { name: 'rgb_z2.tif', stack: makeStack('uint8', 3, 2, 1, true, { pixelWidthUm: 1.5, pixelHeightUm: 1.5, zStepUm: 4 }), bitDepth: 24, composite: false, unit: 'micron' },
  { name: 'rgb_z2t2.tif', stack: makeStack('uint8', 3, 2, 2, true), bitDepth: 24, composite: false, unit: 'pixel' },
];

let dir: string | undefined;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('ImageJ opens TIFFs written by Focal', () => {
  it.skipIf(skip)(`ImageJ reports the dimensions, bit depth, calibration and pixels Focal wrote${skip ? ` (skipped: ${missing})` : ''}`, async () => {
    if (missing) throw new Error(`CI must provide ImageJ: ${missing}`);
    dir = await mkdtemp(join(tmpdir(), 'focal-ij-'));
    for (const k of cases) await writeTiff(join(dir, k.name), k.stack);
    const listFile = join(dir, 'files.txt');
    await writeFile(listFile, cases.map((k) => join(dir!, k.name)).join('\n') + '\n');
    const macro = join(dir, 'check.ijm');
    await writeFile(macro, MACRO);
    const started = performance.now();
    const { stdout, stderr } = await run('xvfb-run', ['-a', 'java', '-Djava.awt.headless=false', '-jar', IJ_JAR, '-batch', macro, listFile], { timeout: 120_000 });
    const seconds = (performance.now() - started) / 1000;
    console.info(`imagej-compat: one ImageJ run for ${cases.length} files took ${seconds.toFixed(1)} s`);
    expect(stdout, stderr).toContain('END');
    const seen = new Map<string, Seen>();
    for (const line of stdout.split('\n')) {
      const f = line.split('\t');
      if (f[0] !== 'RESULT') continue;
      const n = (i: number): number => Number(f[i]);
      seen.set(f[1], { w: n(2), h: n(3), c: n(4), z: n(5), t: n(6), bitDepth: n(7), unit: f[8], pw: n(9), ph: n(10), pd: n(11), fi: n(12), composite: f[13] === '1', last: n(14), first: n(15), mid: n(16), label: f[17] ?? '' });
    }
    expect([...seen.keys()].sort()).toEqual(cases.map((k) => k.name).sort());
    for (const k of cases) {
      const s = seen.get(k.name)!;
      const st = k.stack;
      const c = st.rgb ? 1 : st.sizeC;
      const where = `${k.name}: ${JSON.stringify(s)}`;
      expect([s.w, s.h, s.c, s.z, s.t], where).toEqual([st.width, st.height, c, st.sizeZ, st.sizeT]);
      expect(s.bitDepth, where).toBe(k.bitDepth);
      expect(s.composite, where).toBe(k.composite);
      if (k.unit === 'micron') {
        expect(['micron', 'microns', '\u00b5m'], where).toContain(s.unit);
        expect(s.pw, where).toBeCloseTo(st.calibration.pixelWidthUm!, 6);
        expect(s.ph, where).toBeCloseTo(st.calibration.pixelHeightUm!, 6);
        if (st.calibration.zStepUm !== undefined) expect(s.pd, where).toBeCloseTo(st.calibration.zStepUm, 6);
      } else {
        expect(['pixel', 'pixels'], where).toContain(s.unit);
        expect([s.pw, s.ph, s.pd], where).toEqual([1, 1, 1]);
      }
      expect(s.fi, where).toBeCloseTo(st.calibration.timeStepS ?? 0, 6);
      const m = (n: number, size: number): number => Math.min(n, size);
      expect(s.last, where).toBeCloseTo(expected(st, c, st.sizeZ, st.sizeT, st.width - 1, st.height - 1), 4);
      expect(s.first, where).toBeCloseTo(expected(st, 1, 1, 1, 1, 0), 4);
      expect(s.mid, where).toBeCloseTo(expected(st, m(2, c), m(2, st.sizeZ), m(2, st.sizeT), 2, 3), 4);
      // channel names travel as slice labels (IJMetadata), shown in ImageJ's window subtitle
      expect(s.label, where).toBe(st.channelNames[m(2, c) - 1] ?? '');
    }
  });
});
