/**
 * focal watch on OME-Zarr folders (issue 21): a `.ome.zarr` folder is one job whose input is the
 * folder itself (read lazily by the stack plugin's readers, as `focal run` reads it), taken once
 * its files have settled and the image opens; a second pass does nothing; a folder whose chunks
 * are still arriving is not taken early; the streaming flags reach each job's run.
 */
import 'reflect-metadata';
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createContainer, createStack, makeJobSpec, MemoryLogger, runJob, openOmeZarr, PipelineRunner, PluginRegistry, readTiff, sha256Folder, stackRegionSource, writeOmeZarr, writePyramidalTiff, type Stack } from '../core/index.js';
import { FolderWatcher, type WatchEvent } from '../cli/watch/engine.js';
import { classify } from '../cli/watch/datasets.js';
import { Ledger } from '../cli/watch/ledger.js';
import { builtinPlugins } from '../plugins/index.js';
import { focal, tempDir } from './helpers.js';

const registry = new PluginRegistry();
for (const plugin of builtinPlugins) registry.registerPlugin(plugin, 'builtin');
const runner = createContainer({ catalog: registry, logger: new MemoryLogger(), threads: 1 }).resolve(PipelineRunner);
const root = tempDir('focal-watch-zarr-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const W = 150;
const H = 200;
function slide(sizeC = 1): Stack {
  const planes = Array.from({ length: sizeC }, (_, c) => {
    const d = new Uint16Array(W * H);
    for (let i = 0; i < d.length; i++) {
      const x = i % W;
      const y = Math.floor(i / W);
      d[i] = Math.round(1000 + 700 * Math.sin(x / 7 + c) * Math.cos(y / 11) + ((x * 7919 + y * 104729) % 251));
    }
    return d;
  });
  return createStack({ width: W, height: H, dtype: 'uint16', sizeC, planes, calibration: { pixelWidthUm: 0.25, pixelHeightUm: 0.25 }, channelNames: sizeC > 1 ? ['a', 'b'] : [] });
}

let n = 0;
function setup(): { inDir: string; out: string; base: string } {
  const base = join(root, `case${n++}`);
  const inDir = join(base, 'in');
  mkdirSync(inDir, { recursive: true });
  return { inDir, out: join(base, 'out'), base };
}

function pipelineFile(dir: string, name: string, doc: object): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(doc));
  return file;
}
const COPY = { name: 'copy', inputs: { img: { type: 'stack' } }, nodes: {}, outputs: { copy: 'img' } };
const BLUR = { name: 'blur', inputs: { img: { type: 'stack' } }, nodes: { g: { op: 'filter.gaussian', in: { stack: 'img' }, params: { sigmaPx: 2 } } }, outputs: { blurred: 'g.stack' } };

function watcher(inDir: string, out: string, pipeline: string, events: WatchEvent[], extra: Partial<ConstructorParameters<typeof FolderWatcher>[0]> = {}): FolderWatcher {
  return new FolderWatcher({ dir: inDir, outDir: out, pipelineFile: pipeline, inputName: 'img', once: true, settleMs: 150, acquisitionTimeoutMs: 20_000, runner, onEvent: (e) => events.push(e), ...extra });
}
async function watchOnce(inDir: string, out: string, pipeline: string, extra: Partial<ConstructorParameters<typeof FolderWatcher>[0]> = {}): Promise<WatchEvent[]> {
  const events: WatchEvent[] = [];
  const w = watcher(inDir, out, pipeline, events, extra);
  await w.start();
  await w.finished;
  return events;
}
const of = <K extends WatchEvent['event']>(events: WatchEvent[], kind: K) => events.filter((e): e is Extract<WatchEvent, { event: K }> => e.event === kind);
const same = (a: ArrayBufferView, b: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

function listRel(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[]).filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name))).sort();
}

describe('focal watch: OME-Zarr folders', () => {
  it('classifies every file inside a .ome.zarr folder as that one folder dataset', () => {
    expect(classify('/w', '/w/run/slide.ome.zarr/0/c/0/0/0/1/2')).toMatchObject({ kind: 'ome-zarr', key: '/w/run/slide.ome.zarr', outputBase: 'run/slide' });
    expect(classify('/w', '/w/slide.OME.zarr/.zattrs')).toMatchObject({ kind: 'ome-zarr', key: '/w/slide.OME.zarr', outputBase: 'slide' });
    // a TIFF inside the folder is part of it, not a TIFF job
    expect(classify('/w', '/w/s.ome.zarr/OME/x.ome.tif')).toMatchObject({ kind: 'ome-zarr', key: '/w/s.ome.zarr' });
  });

  it('processes a v3 and a v2 folder once each, the folder given to the pipeline as focal run takes it; a second --once pass does nothing', async () => {
    const { inDir, out, base } = setup();
    await writeOmeZarr(join(inDir, 'v3.ome.zarr'), stackRegionSource(slide(2)), { chunkSize: 64, zarrFormat: 3 });
    mkdirSync(join(inDir, 'run'));
    await writeOmeZarr(join(inDir, 'run', 'v2.ome.zarr'), stackRegionSource(slide()), { chunkSize: 64, zarrFormat: 2 });
    const copy = pipelineFile(base, 'copy', COPY);
    // a catch-all pattern: still no chunk file, .zattrs or zarr.json becomes a job of its own
    const events = await watchOnce(inDir, out, copy, { pattern: '**/*' });
    const queued = of(events, 'job-queued');
    expect(queued.map((e) => [relative(inDir, e.input), e.kind, e.files]).sort()).toEqual([['run/v2.ome.zarr', 'ome-zarr', 1], ['v3.ome.zarr', 'ome-zarr', 1]]);
    expect(of(events, 'job-failed')).toEqual([]);
    expect(of(events, 'job-done')).toHaveLength(2);

    for (const [name, rel, outName] of [['v3.ome.zarr', 'v3', 'v3'], ['run/v2.ome.zarr', 'run/v2', 'run/v2']] as const) {
      const folder = join(inDir, name);
      // the same pipeline run by focal run's runner on the folder
      const ref = join(base, `ref-${outName.replace('/', '-')}`);
      await runner.run({ pipelineFile: copy, inputs: { img: folder }, outDir: ref, report: false });
      const [a, b] = [await readTiff(join(ref, 'copy.tif')), await readTiff(join(out, rel, 'copy.tif'))];
      expect([b.width, b.height, b.sizeC, b.dtype]).toEqual([a.width, a.height, a.sizeC, a.dtype]);
      expect([b.width, b.height]).toEqual([W, H]);
      expect(b.planes.every((p, i) => same(p, a.planes[i]))).toBe(true);
      expect(b.calibration.pixelWidthUm).toBeCloseTo(0.25, 9);
      const runJson = JSON.parse(readFileSync(join(out, rel, 'run.json'), 'utf8')) as { inputs: { img: { file: string; folder: boolean; sha256: string } } };
      const folderHash = (await sha256Folder(folder)).sha256;
      expect(runJson.inputs.img).toMatchObject({ file: folder, folder: true, sha256: folderHash });
      // ledger: one entry for the folder, its hash = run.json's input hash (crash recovery compares them)
      const ledger = Ledger.open(out);
      const rec = [...ledger.jobs.values()].find((r) => r.key === folder)!;
      ledger.close();
      expect(rec).toMatchObject({ state: 'done', kind: 'ome-zarr', sha256: folderHash, inputSha256: folderHash, output: rel });
      expect(rec.files).toEqual([expect.objectContaining({ path: folder })]);
      expect(rec.fileCount).toBe(listRel(folder).length);
      expect(rec.files[0].size).toBe(listRel(folder).reduce((s, f) => s + statSync(join(folder, f)).size, 0));
    }

    const before = listRel(out).filter((f) => !f.startsWith('.focal-watch'));
    const again = await watchOnce(inDir, out, copy, { pattern: '**/*' });
    expect(of(again, 'job-queued')).toEqual([]);
    expect(of(again, 'job-done')).toEqual([]);
    expect(listRel(out).filter((f) => !f.startsWith('.focal-watch'))).toEqual(before);

    // new content in the same folder (one chunk rewritten) is a new job, into <stem>-<sha8>
    const chunk = join(inDir, 'v3.ome.zarr', '0', 'c', '0', '0', '0', '0', '0');
    await writeOmeZarr(join(base, 'other.ome.zarr'), stackRegionSource(slide(2)), { chunkSize: 64, zarrFormat: 3, compression: 'none' });
    cpSync(join(base, 'other.ome.zarr', '0', 'c', '0', '0', '0', '0', '0'), chunk);
    const third = await watchOnce(inDir, out, copy);
    const q = of(third, 'job-queued');
    expect(q).toHaveLength(1);
    expect(q[0].output).toMatch(/\/v3-[0-9a-f]{8}$/);
  }, 60_000);

  it('does not take a folder whose metadata is written but whose chunks are still arriving', async () => {
    const { inDir, out, base } = setup();
    // a complete image written elsewhere, then copied in as a writer that puts the metadata first would write it
    const full = join(base, 'full.ome.zarr');
    await writeOmeZarr(full, stackRegionSource(slide()), { chunkSize: 32, zarrFormat: 2, levels: 1 });
    const dest = join(inDir, 'slow.ome.zarr');
    const files = listRel(full);
    const meta = files.filter((f) => f.endsWith('.zattrs') || f.endsWith('.zgroup') || f.endsWith('.zarray'));
    const chunks = files.filter((f) => !meta.includes(f));
    expect(chunks.length).toBe(Math.ceil(W / 32) * Math.ceil(H / 32));
    for (const f of meta) cpSync(join(full, f), join(dest, f));
    // the half-written folder already opens: only settling keeps it from being taken
    const early = await openOmeZarr(dest);
    expect([early.width, early.height]).toEqual([W, H]);
    await early.close();

    const events: WatchEvent[] = [];
    const w = watcher(inDir, out, pipelineFile(base, 'copy', COPY), events, { settleMs: 250 });
    await w.start();
    let lastWrite = 0;
    for (const f of chunks) {
      await new Promise((r) => setTimeout(r, 40)); // pauses well under --settle-ms
      cpSync(join(full, f), join(dest, f));
      lastWrite = Date.now();
    }
    await w.finished;
    const queued = of(events, 'job-queued');
    expect(queued).toHaveLength(1);
    expect(queued[0].ts).toBeGreaterThanOrEqual(lastWrite + 250);
    const [a, b] = [slide(), await readTiff(join(out, 'slow', 'copy.tif'))];
    expect(same(b.planes[0], a.planes[0])).toBe(true);
  }, 60_000);

  it('a streamed job (--stream always --memory-mb) gives the same pixels as the in-memory job', async () => {
    const { inDir, out, base } = setup();
    await writeOmeZarr(join(inDir, 'slide.ome.zarr'), stackRegionSource(slide()), { chunkSize: 64, zarrFormat: 3 });
    const blur = pipelineFile(base, 'blur', BLUR);
    const mem = await watchOnce(inDir, out, blur, { run: { stream: 'never' } });
    expect(of(mem, 'job-done')).toHaveLength(1);
    const outS = join(base, 'out-stream');
    const str = await watchOnce(inDir, outS, blur, { run: { stream: 'always', memoryMb: 64, tileSize: 64 } });
    expect(of(str, 'job-done')).toHaveLength(1);
    expect(readdirSync(join(outS, 'slide')).sort()).toEqual(['blurred.ome.tif', 'run.json']);
    const record = JSON.parse(readFileSync(join(outS, 'slide', 'run.json'), 'utf8')) as { stream?: { memoryMb: number; tileSize: number } };
    expect(record.stream).toMatchObject({ memoryMb: 64, tileSize: 64 });
    const [a, b] = [await readTiff(join(out, 'slide', 'blurred.tif')), await readTiff(join(outS, 'slide', 'blurred.ome.tif'))];
    expect([b.width, b.height, b.dtype]).toEqual([a.width, a.height, a.dtype]);
    expect(same(b.planes[0], a.planes[0])).toBe(true);
  }, 60_000);

  it('crash after the output folder was renamed, before done: the next start finds run.json\'s input hash equal to the folder\'s and marks it done without re-running', async () => {
    const { inDir, out, base } = setup();
    const folder = join(inDir, 'slide.ome.zarr');
    await writeOmeZarr(folder, stackRegionSource(slide()), { chunkSize: 64, zarrFormat: 2 });
    const copy = pipelineFile(base, 'copy', COPY);
    expect(of(await watchOnce(inDir, out, copy), 'job-done')).toHaveLength(1);
    // rewind the job to `running`, as a kill between the rename and the `done` append leaves it
    const ledgerFile = join(out, '.focal-watch', 'ledger.jsonl');
    const done = readFileSync(ledgerFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r.state === 'done')!;
    appendFileSync(ledgerFile, `${JSON.stringify({ ...done, state: 'queued', ms: undefined, outputs: undefined })}\n`);
    const events = await watchOnce(inDir, out, copy);
    expect(of(events, 'job-done')).toEqual([expect.objectContaining({ id: done.id, recovered: true })]);
    expect(of(events, 'job-started')).toEqual([]);
  }, 60_000);

  it('a folder with a symbolic link inside is skipped, saying so; one that never opens is processed after the acquisition timeout and fails with a report', async () => {
    const { inDir, out, base } = setup();
    const linked = join(inDir, 'linked.ome.zarr');
    await writeOmeZarr(linked, stackRegionSource(slide()), { chunkSize: 64, zarrFormat: 2 });
    symlinkSync(join(linked, '0', '.zarray'), join(linked, 'extra'));
    const broken = join(inDir, 'broken.ome.zarr');
    mkdirSync(join(broken, '0'), { recursive: true });
    writeFileSync(join(broken, '0', '0'), 'not a chunk');
    const events = await watchOnce(inDir, out, pipelineFile(base, 'copy', COPY), { acquisitionTimeoutMs: 700 });
    const skipped = of(events, 'job-skipped').find((e) => e.input === linked)!;
    expect(skipped.reason).toMatch(/symbolic links \(extra\)/);
    expect(of(events, 'job-queued').map((e) => e.input)).toEqual([broken]);
    expect(of(events, 'warning').some((e) => e.input === broken && /still incomplete .*does not open as OME-Zarr yet/.test(e.message))).toBe(true);
    expect(of(events, 'job-failed')).toHaveLength(1);
    expect(existsSync(join(out, 'failed', 'broken.json'))).toBe(true);
    expect(existsSync(join(out, 'linked'))).toBe(false);
  }, 60_000);

  it('a queued job (job spec, as --queue and focal submit make it) takes the folder: hashed as run.json hashes it', async () => {
    const { inDir, base } = setup();
    const folder = join(inDir, 'slide.ome.zarr');
    await writeOmeZarr(folder, stackRegionSource(slide()), { chunkSize: 64, zarrFormat: 3 });
    const spec = await makeJobSpec(pipelineFile(base, 'copy', COPY), { img: folder }, join(base, 'job-out'));
    expect(spec.inputSha256.img).toBe((await sha256Folder(folder)).sha256);
    const done = await runJob(spec, { runner: (request) => runner.run(request) });
    expect(done.state).toBe('done');
    const b = await readTiff(join(base, 'job-out', 'copy.tif'));
    expect(same(b.planes[0], slide().planes[0])).toBe(true);
  }, 60_000);

  it('CLI: focal convert into the watched folder, focal watch --once with the stream flags equals focal run; bad flags are usage errors', async () => {
    const { inDir, out, base } = setup();
    const tif = join(base, 'in.ome.tif');
    await writePyramidalTiff(tif, stackRegionSource(slide()), { tileSize: 64, levels: 1 });
    let r = focal(['convert', tif, join(inDir, 'slide.ome.zarr'), '--tile-size', '64', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const blur = pipelineFile(base, 'blur', BLUR);
    const flags = ['--stream', 'always', '--memory-mb', '64', '--tile-size', '64', '--stream-format', 'ome-zarr', '--zarr-format', '2'];
    r = focal(['watch', inDir, '-p', blur, '-o', out, '--once', '--settle-ms', '200', '--json', ...flags]);
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as WatchEvent);
    expect(of(events, 'job-queued').map((e) => e.kind)).toEqual(['ome-zarr']);
    expect(of(events, 'job-done')).toHaveLength(1);
    r = focal(['run', blur, '-i', join(inDir, 'slide.ome.zarr'), '-o', join(base, 'ref'), '--quiet', ...flags]);
    expect(r.code, r.stderr).toBe(0);
    const [a, b] = [await openOmeZarr(join(base, 'ref', 'blurred.ome.zarr')), await openOmeZarr(join(out, 'slide', 'blurred.ome.zarr'))];
    expect([b.width, b.height, b.levels.length, b.levels[0].blockWidth, b.layout.zarrFormat]).toEqual([a.width, a.height, a.levels.length, 64, 2]);
    expect(same(await b.readRegion({ x: 0, y: 0, w: W, h: H }), await a.readRegion({ x: 0, y: 0, w: W, h: H }))).toBe(true);
    await a.close();
    await b.close();
    // a second pass: nothing new
    r = focal(['watch', inDir, '-p', blur, '-o', out, '--once', '--settle-ms', '200', '--json', ...flags]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('"job-queued"');

    const bad = focal(['watch', inDir, '-p', blur, '-o', join(base, 'o2'), '--once', '--stream', 'sometimes']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--stream');
    const queue = focal(['watch', inDir, '-p', blur, '-o', join(base, 'o3'), '--once', '--queue', 'redis://127.0.0.1:1', '--memory-mb', '64']);
    expect(queue.code).toBe(2);
    expect(queue.stderr).toContain('--memory-mb');
  }, 120_000);
});
