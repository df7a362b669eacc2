/**
 * ImageJ ROI sets from cellcount.count (`rois` output → `<name>.zip`): the format read back by
 * Focal's own reader and by Python's zipfile, and opened by ImageJ's ROI Manager (ImageJ under
 * Xvfb) with the same count and total area as Focal's summary table.
 *
 * The ImageJ part needs xvfb-run, java and ImageJ (Debian: imagej, xvfb). Without them it is
 * skipped, except in CI (process.env.CI), where it fails.
 */
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createContainer, encodeRoi, decodeRoi, MemoryLogger, PipelineRunner, PluginRegistry, readRoiZip, readTableFile, readTiff, roiArea, zipStored, unzipStored } from '../core/index.js';
import { builtinPlugins } from '../plugins/index.js';
import { ROOT, tempDir } from './helpers.js';

const run = promisify(execFile);
const IJ_JAR = process.env.IMAGEJ_JAR ?? '/usr/share/java/ij.jar';
const missing = !existsSync(IJ_JAR) ? IJ_JAR : !existsSync('/usr/bin/xvfb-run') ? 'xvfb-run' : undefined;
const skip = missing !== undefined && !process.env.CI;
if (skip) console.warn(`roi-export: ImageJ check skipped: needs ${missing} (Debian packages imagej, xvfb)`);

const registry = new PluginRegistry();
for (const plugin of builtinPlugins) registry.registerPlugin(plugin, 'builtin');
const runner = createContainer({ catalog: registry, logger: new MemoryLogger() }).resolve(PipelineRunner);
const d = tempDir('focal-roi-export-');
afterAll(() => rmSync(d, { recursive: true, force: true }));

/** A bundled counting pipeline with the `rois` output added. */
function withRois(name: string): string {
  const doc = JSON.parse(readFileSync(join(ROOT, 'pipelines', `${name}.json`), 'utf8')) as { inputs: Record<string, { default?: string }>; outputs: Record<string, string>; nodes: Record<string, { params?: Record<string, unknown> }> };
  for (const i of Object.values(doc.inputs)) if (i.default) i.default = join(ROOT, 'pipelines', i.default);
  doc.outputs.rois = 'count.rois';
  // An ROI is the object's outer outline, so ImageJ measures it with its holes: compare against
  // Focal's areas counted the same way (with includeHoles off an object with a hole measures
  // smaller in the table than its ROI in ImageJ; docs/cellcount.md).
  doc.nodes.count.params = { ...doc.nodes.count.params, includeHoles: true };
  const file = join(d, `${name}.json`);
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

const MACRO = `
args = split(getArgument(), "|");
newImage("canvas", "8-bit black", parseInt(args[1]), parseInt(args[2]), 1);
roiManager("reset");
roiManager("Open", args[0]);
n = roiManager("count");
total = 0;
lines = "";
for (i = 0; i < n; i++) {
  roiManager("select", i);
  getStatistics(area);
  total += area;
  lines = lines + Roi.getName + "\\t" + selectionType() + "\\t" + area + "\\n";
}
File.saveString(n + "\\t" + total + "\\n" + lines, args[3]);
`;

describe('ImageJ ROI sets', () => {
  it('encodes a traced outline as ImageJ .roi bytes and reads it back', () => {
    const roi = { name: '0001-0007', kind: 'traced' as const, position: 3, x: [10, 14, 14, 12, 12, 10], y: [20, 20, 23, 23, 25, 25] };
    const bytes = encodeRoi(roi);
    expect(String.fromCharCode(...bytes.subarray(0, 4))).toBe('Iout');
    expect(bytes[6]).toBe(8); // traced
    const v = new DataView(bytes.buffer);
    expect([v.getInt16(8), v.getInt16(10), v.getInt16(12), v.getInt16(14), v.getUint16(16)]).toEqual([20, 10, 25, 14, 6]); // top, left, bottom, right, n
    expect(v.getInt16(64)).toBe(0); // x relative to left
    expect(decodeRoi(bytes, roi.name)).toEqual(roi);
    expect(roiArea(roi)).toBe(4 * 3 + 2 * 2);
    expect(() => encodeRoi({ ...roi, x: [0, 40000, 0], y: [0, 0, 1] })).toThrow(/32767/);
  });

  it('writes a zip that Python zipfile verifies', async () => {
    const zip = zipStored([{ name: 'a.roi', data: new Uint8Array([1, 2, 3]) }, { name: 'b.roi', data: new Uint8Array(1000).fill(7) }]);
    expect(unzipStored(zip).map((e) => [e.name, e.data.length])).toEqual([['a.roi', 3], ['b.roi', 1000]]);
    const file = join(d, 't.zip');
    writeFileSync(file, zip);
    const { stdout } = await run('/usr/bin/python3', ['-c', 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(z.testzip(), len(z.namelist()))', file]);
    expect(stdout.trim()).toBe('None 2');
  });

  for (const pipeline of ['count-nuclei', 'demo']) {
    it.skipIf(skip)(`${pipeline} + rois: ImageJ's ROI Manager opens rois.zip with Focal's count and total area${skip ? ` (skipped: ${missing})` : ''}`, async () => {
      if (missing) throw new Error(`CI must provide ImageJ: needs ${missing}`);
      const out = join(d, pipeline);
      const summary = await runner.run({ pipelineFile: withRois(pipeline), outDir: out });
      expect(summary.outputs.find((o) => o.name === 'rois')?.files).toEqual([join(out, 'rois.zip')]);
      const table = await readTableFile(join(out, 'summary.csv'));
      const count = table.rows.reduce((s, r) => s + (r.count as number), 0);
      const total = table.rows.reduce((s, r) => s + (r.totalAreaPx as number), 0);
      expect(count).toBeGreaterThan(10);
      const set = readRoiZip(readFileSync(join(out, 'rois.zip')));
      expect(set.rois).toHaveLength(count);
      const { width, height } = await readTiff(join(out, 'labels.tif'));
      const macro = join(d, 'rois.ijm');
      writeFileSync(macro, MACRO);
      const result = join(out, 'imagej.tsv');
      await run('xvfb-run', ['-a', 'java', '-jar', IJ_JAR, '-batch', macro, `${join(out, 'rois.zip')}|${width}|${height}|${result}`], { timeout: 120_000 });
      const [head, ...rows] = readFileSync(result, 'utf8').trim().split('\n');
      const [ijCount, ijTotal] = head.split('\t').map(Number);
      expect(ijCount).toBe(count);
      expect(ijTotal).toBe(total);
      // names as written, each a traced selection (selectionType 4), areas as the objects table's
      const objects = await readTableFile(join(out, 'objects.csv'));
      const ij = rows.map((l) => l.split('\t'));
      expect(ij.map((r) => r[0])).toEqual(set.rois.map((r) => r.name));
      expect(ij.every((r) => r[1] === '4')).toBe(true);
      expect(ij.map((r) => Number(r[2]))).toEqual(objects.rows.map((r) => r.areaPx));
    }, 180_000);
  }
});
