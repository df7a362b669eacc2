/**
 * Every pipeline in pipelines/ validates and runs on its default sample inputs through the
 * real host (registry with the built-in plugins, DI container, PipelineRunner), writes every
 * declared output, run.json and report.html; and together the pipelines use every registered
 * operation.
 *
 * Each run's report opens in headless Chromium with no console message (no error, no uncaught
 * exception), draws a uPlot chart for every plot the page declares, and lists every node and
 * output of the run. Chromium's console goes to stderr with `--enable-logging=stderr --v=0`
 * (lines `INFO:CONSOLE…`); `--dump-dom` prints the page after its scripts ran. A page opens
 * while the next pipeline runs (Chromium mostly waits: 2.3 s wall, 1 s CPU a page). Needs
 * Chromium (Debian: chromium; scripts/install-system-deps.sh); without it those checks are
 * skipped, except in CI (process.env.CI), where they fail.
 */
import 'reflect-metadata';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createContainer, MemoryLogger, PipelineRunner, planeCount, PluginRegistry, readRunRecord, readTableFile, readTiff, TableJsonSchema } from '../core/index.js';
import { builtinPlugins } from '../plugins/index.js';
import { ROOT, tempDir } from './helpers.js';
import { chromiumMissing, expectListsEverything, openInChromium } from './report-helpers.js';

const missingChromium = chromiumMissing();
const skipChromium = missingChromium !== undefined && !process.env.CI;
if (skipChromium) console.warn(`pipelines: reports not opened in Chromium: ${missingChromium}`);

/** Every pipeline a built-in plugin contributes (pipelines/ and plugins/<id>/pipelines/), relative to the package root. */
const PIPELINE_DIR = ROOT;
const files = builtinPlugins.flatMap((p) => (p.pipelines ?? []).map((x) => x.path)).sort();
const inPipelinesFolder = readdirSync(join(ROOT, 'pipelines')).filter((f) => f.endsWith('.json'));

function host() {
  const registry = new PluginRegistry();
  for (const plugin of builtinPlugins) registry.registerPlugin(plugin, 'builtin');
  const container = createContainer({ catalog: registry, logger: new MemoryLogger() });
  return { registry, runner: container.resolve(PipelineRunner) };
}

const { registry, runner } = host();
const outRoot = tempDir('focal-pipelines-');

/** Each pipeline's report opened in Chromium (started by its run's test, checked by the last test). */
const pages = new Map<string, Promise<{ html: string; reportFile: string; record: Awaited<ReturnType<typeof readRunRecord>>; page: { dom: string; console: string[] } }>>();

/**
 * Output fingerprints of every bundled pipeline on its bundled samples (test/fixtures/pipeline-outputs.json):
 * a refactor must not change what a pipeline computes (issue 15). Images: size and, per plane,
 * sum, sum of squares, min and max; tables: columns, row count and each numeric column's sum
 * (columns of times excluded); json: the top-level keys. Compared to a relative 1e-5 (float
 * summation order may differ between thread counts), 1e-4 for a pipeline with a learned op (a
 * network's float kernels differ between CPUs: onnxruntime picks AVX2 or AVX-512 code, and a
 * mean absolute difference of two networks' outputs moved by 1.7e-5 between two machines).
 * `FOCAL_UPDATE_FINGERPRINTS=1` rewrites the file after a deliberate change of results.
 */
const FINGERPRINTS = join(ROOT, 'test', 'fixtures', 'pipeline-outputs.json');
type Fingerprint = Record<string, unknown>;
const fingerprints: Record<string, Record<string, Fingerprint>> = {};
const expected: Record<string, Record<string, Fingerprint>> | undefined = existsSync(FINGERPRINTS) && !process.env.FOCAL_UPDATE_FINGERPRINTS ? JSON.parse(readFileSync(FINGERPRINTS, 'utf8')) : undefined;
const TIME_COLUMN = /(^|_)(time|seconds|ms|elapsed)|Ms$|Seconds$/i;

/** The plugins whose ops run a network (see the tolerance above). */
const LEARNED_OP = /"op"\s*:\s*"(deepr|tsva|staining|virfluonet)\./;

function expectClose(actual: unknown, wanted: unknown, what: string, relTol = 1e-5): void {
  if (typeof wanted === 'number' && typeof actual === 'number') {
    const tol = relTol * Math.max(1, Math.abs(wanted));
    expect(Math.abs(actual - wanted), `${what}: ${actual} vs ${wanted}`).toBeLessThanOrEqual(tol);
  } else if (Array.isArray(wanted)) {
    expect(Array.isArray(actual) && actual.length === wanted.length, `${what}: length`).toBe(true);
    wanted.forEach((w, i) => expectClose((actual as unknown[])[i], w, `${what}[${i}]`, relTol));
  } else if (wanted !== null && typeof wanted === 'object') {
    expect(Object.keys(actual as object).sort(), `${what}: keys`).toEqual(Object.keys(wanted).sort());
    for (const [k, w] of Object.entries(wanted)) expectClose((actual as Record<string, unknown>)[k], w, `${what}.${k}`, relTol);
  } else expect(actual, what).toEqual(wanted);
}

afterAll(() => {
  rmSync(outRoot, { recursive: true, force: true });
  if (!expected && Object.keys(fingerprints).length === files.length) writeFileSync(FINGERPRINTS, `${JSON.stringify(fingerprints, null, 1)}\n`);
});

describe('bundled pipelines', () => {
  it('finds pipeline files, and every file in pipelines/ is a plugin\'s contribution', () => {
    expect(files.length).toBeGreaterThan(0);
    expect(inPipelinesFolder.filter((f) => !files.includes(`pipelines/${f}`))).toEqual([]);
  });

  it.each(files)('%s runs on its default inputs and writes every output', async (file) => {
    const pipelineFile = join(PIPELINE_DIR, file);
    const json = JSON.parse(readFileSync(pipelineFile, 'utf8')) as {
      name: string;
      description?: string;
      inputs: Record<string, { default?: string }>;
      outputs: Record<string, string>;
    };
    expect(json.name, `${file}: name`).toBe(basename(file).replace(/\.json$/, ''));
    expect(json.description?.length ?? 0, `${file}: description`).toBeGreaterThan(20);
    for (const [name, input] of Object.entries(json.inputs)) {
      expect(input.default, `${file}: input '${name}' needs a default sample`).toBeTypeOf('string');
    }

    const outDir = join(outRoot, file.replace(/\.json$/, ''));
    const summary = await runner.run({ pipelineFile, outDir, report: true });
    expect(summary.pipeline).toBe(json.name);
    expect(summary.reportFile, `${file}: report.html`).toBe(join(outDir, 'report.html'));
    expect(summary.outputs.map((o) => o.name).sort()).toEqual(Object.keys(json.outputs).sort());

    const prints: Record<string, Fingerprint> = {};
    for (const output of summary.outputs) {
      const what = `${file}: output '${output.name}' (${output.type})`;
      expect(output.files.length, what).toBeGreaterThan(0);
      for (const f of output.files) expect(existsSync(f), `${what}: ${f}`).toBe(true);
      if (output.type === 'image' || output.type === 'stack') {
        const stack = await readTiff(output.files[0]);
        expect(stack.kind, what).toBe('stack');
        expect(stack.width * stack.height, what).toBeGreaterThan(0);
        expect(planeCount(stack), what).toBe(stack.sizeC * stack.sizeZ * stack.sizeT);
        if (output.type === 'image') expect(planeCount(stack), `${what}: an image is one plane`).toBe(1);
        // every pixel a number, and not every output blank
        let finite = 0;
        let nonZero = 0;
        for (const plane of stack.planes) {
          for (let i = 0; i < plane.length; i++) {
            if (Number.isFinite(plane[i])) finite++;
            if (plane[i] !== 0) nonZero++;
          }
        }
        expect(finite, `${what}: finite pixels`).toBe(stack.planes.length * stack.width * stack.height);
        expect(nonZero, `${what}: not all zero`).toBeGreaterThan(0);
        prints[output.name] = {
          width: stack.width, height: stack.height,
          planes: stack.planes.map((plane) => {
            let sum = 0;
            let sq = 0;
            let lo = Infinity;
            let hi = -Infinity;
            for (let i = 0; i < plane.length; i++) {
              const v = plane[i];
              sum += v;
              sq += v * v;
              if (v < lo) lo = v;
              if (v > hi) hi = v;
            }
            return [sum, sq, lo, hi];
          }),
        };
      } else if (output.type === 'table') {
        const csv = output.files.find((f) => f.endsWith('.csv'))!;
        const table = await readTableFile(csv);
        expect(table.columns.length, `${what}: columns`).toBeGreaterThan(0);
        expect(table.rows.length, `${what}: rows`).toBeGreaterThan(0);
        const fromJson = TableJsonSchema.parse(JSON.parse(readFileSync(output.files.find((f) => f.endsWith('.json'))!, 'utf8')));
        expect(fromJson.columns, `${what}: JSON columns`).toEqual(table.columns);
        expect(fromJson.rows.length, `${what}: JSON rows`).toBe(table.rows.length);
        const sums: Record<string, number> = {};
        for (const c of table.columns) {
          if (TIME_COLUMN.test(c) || !table.rows.every((r) => typeof r[c] === 'number' || r[c] === null)) continue;
          sums[c] = table.rows.reduce((a, r) => a + ((r[c] as number | null) ?? 0), 0);
        }
        prints[output.name] = { columns: table.columns, rows: table.rows.length, sums };
      } else if (output.type === 'json') {
        const value = JSON.parse(readFileSync(output.files[0], 'utf8')) as unknown;
        expect(value, what).not.toBeNull();
        if (typeof value === 'object') expect(Object.keys(value as object).length, what).toBeGreaterThan(0);
        prints[output.name] = { keys: typeof value === 'object' ? Object.keys(value as object).sort() : [] };
      }
    }
    fingerprints[file] = prints;
    if (expected) {
      expect(expected[file], `${file}: no fingerprint in test/fixtures/pipeline-outputs.json (FOCAL_UPDATE_FINGERPRINTS=1 to record)`).toBeDefined();
      expectClose(prints, expected[file], `${file} outputs`, LEARNED_OP.test(readFileSync(file, 'utf8')) ? 1e-4 : 1e-5);
    }

    expect(summary.provenanceFile).toBe(join(outDir, 'run.json'));
    const run = JSON.parse(readFileSync(summary.provenanceFile, 'utf8')) as { pipeline: { name: string }; nodes: Record<string, unknown>; outputs: unknown[] };
    expect(run.pipeline.name).toBe(json.name);
    expect(Object.keys(run.nodes).length).toBeGreaterThan(0);
    expect(run.outputs.length).toBe(summary.outputs.length);

    if (!skipChromium && !missingChromium) {
      const reportFile = summary.reportFile!;
      const opened = (async () => ({
        reportFile,
        html: readFileSync(reportFile, 'utf8'),
        record: await readRunRecord(outDir),
        page: await openInChromium(reportFile, join(outRoot, `.chromium-${file.replace(/[^A-Za-z0-9_-]/g, '_')}`)),
      }))();
      opened.catch(() => undefined); // reported by the report test
      pages.set(file, opened);
    }
  });

  it.skipIf(skipChromium)('every run\'s report opens in headless Chromium with no console message, draws its plots and lists every node and output', async () => {
    if (missingChromium) throw new Error(`CI must provide Chromium: ${missingChromium}`);
    expect([...pages.keys()].sort(), 'a report for every pipeline').toEqual(files);
    for (const [file, opened] of pages) {
      const { html, reportFile, record, page } = await opened;
      expectListsEverything(html, record);
      expect(page.console, `${file}: console of ${reportFile}`).toEqual([]);
      const declared = [...html.matchAll(/<div class="plot" id="/g)].length;
      expect([...page.dom.matchAll(/class="uplot/g)].length, `${file}: uPlot charts drawn`).toBe(declared);
    }
  }, 180_000);

  it('use every registered operation at least once', () => {
    const used = new Set<string>();
    for (const file of files) {
      const json = JSON.parse(readFileSync(join(PIPELINE_DIR, file), 'utf8')) as { nodes: Record<string, { op: string }> };
      for (const node of Object.values(json.nodes)) used.add(node.op);
    }
    const builtinOps = builtinPlugins.flatMap((p) => p.operations.map((op) => op.id));
    expect(registry.ids()).toEqual(expect.arrayContaining(builtinOps));
    const missing = registry.ids().filter((id) => !used.has(id));
    expect(missing, `operations without a bundled pipeline: ${missing.join(', ')}`).toEqual([]);
    const unknown = [...used].filter((id) => registry.get(id) === undefined);
    expect(unknown, `pipelines use unregistered operations: ${unknown.join(', ')}`).toEqual([]);
  });
});
