import 'reflect-metadata';
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createContainer, createStack, MemoryLogger, PipelineRunner, PluginRegistry, readTiff, writeTiff } from '../core/index.js';
import { classify } from '../cli/watch/datasets.js';
import { FolderWatcher, type WatchEvent } from '../cli/watch/engine.js';
import { builtinPlugins } from '../plugins/index.js';
import { Ledger } from '../cli/watch/ledger.js';
import { ROOT, tempDir } from './helpers.js';
import { ndTiffHeader } from '../core/testing/micromanager.js';

const FX = join(ROOT, 'core', 'io', 'fixtures');

/** A pipeline with no nodes: its output is its input, so outputs show exactly what was read. */
function copyPipeline(dir: string): string {
  const file = join(dir, 'copy.json');
  writeFileSync(file, JSON.stringify({ name: 'copy', inputs: { img: { type: 'stack' } }, nodes: {}, outputs: { copy: 'img' } }));
  return file;
}

async function watchOnce(inDir: string, out: string, extra: Partial<ConstructorParameters<typeof FolderWatcher>[0]> = {}): Promise<WatchEvent[]> {
  const registry = new PluginRegistry();
  const container = createContainer({ catalog: registry, logger: new MemoryLogger(), threads: 1 });
  const events: WatchEvent[] = [];
  const w = new FolderWatcher({
    dir: inDir,
    outDir: out,
    pipelineFile: copyPipeline(join(out, '..')),
    inputName: 'img',
    once: true,
    settleMs: 60,
    acquisitionTimeoutMs: 1000,
    runner: container.resolve(PipelineRunner),
    onEvent: (e) => events.push(e),
    ...extra,
  });
  await w.start();
  await w.finished;
  return events;
}

function setup(): { inDir: string; out: string } {
  const root = tempDir('focal-watch-engine-');
  const inDir = join(root, 'in');
  mkdirSync(inDir);
  return { inDir, out: join(root, 'out') };
}

const of = (events: WatchEvent[], kind: WatchEvent['event']) => events.filter((e) => e.event === kind);

describe('watch datasets', () => {
  it('classifies MMStack split files into their series, img_* planes into their folder and position', () => {
    const a = classify('/w', '/w/run1/Exp_MMStack_Pos0_2.ome.tif');
    expect(a).toMatchObject({ kind: 'mmstack', key: '/w/run1/Exp_MMStack_Pos0.ome.tif', outputBase: 'run1/Exp_MMStack_Pos0' });
    expect(classify('/w', '/w/run1/Exp_MMStack_Pos0.ome.tif')).toMatchObject({ key: '/w/run1/Exp_MMStack_Pos0.ome.tif' });
    expect(classify('/w', '/w/acq/img_channel001_position002_time000000003_z004.tif')).toMatchObject({ kind: 'img-folder', key: '/w/acq#position2', outputBase: 'acq_pos002', position: 2 });
    expect(classify('/w', '/w/x/cells.ome.tiff')).toMatchObject({ kind: 'file', outputBase: 'x/cells' });
    expect(classify('/w', '/w/run2/Full resolution/run2_NDTiffStack_1.tif')).toMatchObject({ kind: 'ndtiff', key: '/w/run2/Full resolution#ndtiff', outputBase: 'run2' });
    expect(classify('/w', '/w/run2/Downsampled_x4/run2_NDTiffStack.tif')).toBeUndefined();
  });
});

describe('watch engine (in process)', () => {
  it('runs an MMStack series split over two files as one job', async () => {
    const { inDir, out } = setup();
    cpSync(join(FX, 'mmstack'), join(inDir, 'acq'), { recursive: true });
    const events = await watchOnce(inDir, out);
    const queued = of(events, 'job-queued');
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({ kind: 'mmstack', files: 2 });
    const s = await readTiff(join(out, 'acq', 'Exp_MMStack_Pos0', 'copy.tif'));
    expect([s.sizeC, s.sizeZ, s.sizeT]).toEqual([2, 3, 4]);
  });

  it('keeps at most --max-queue jobs queued or running; the rest wait and are all processed', async () => {
    const { inDir, out } = setup();
    for (let i = 0; i < 4; i++) await writeTiff(join(inDir, `f${i}.tif`), createStack({ width: 8, height: 8, dtype: 'uint8', planes: [new Uint8Array(64).fill(i)] }));
    const events = await watchOnce(inDir, out, { maxQueue: 1 });
    let open = 0;
    for (const e of events) {
      if (e.event === 'job-queued') open++;
      if (e.event === 'job-done' || e.event === 'job-failed') open--;
      expect(open).toBeLessThanOrEqual(1);
    }
    expect(of(events, 'job-done')).toHaveLength(4);
  });

  it('writes a failed report naming the node and op when a pipeline node fails, and goes on with the other inputs', async () => {
    const { inDir, out } = setup();
    await writeTiff(join(inDir, 'small.tif'), createStack({ width: 8, height: 8, dtype: 'uint8', planes: [new Uint8Array(64).fill(3)] }));
    await writeTiff(join(inDir, 'big.tif'), createStack({ width: 40, height: 40, dtype: 'uint8', planes: [new Uint8Array(1600).fill(5)] }));
    const pipelineFile = join(out, '..', 'crop.json');
    writeFileSync(pipelineFile, JSON.stringify({
      name: 'crop', inputs: { img: { type: 'stack' } },
      nodes: { cut: { op: 'stack.crop', in: { stack: 'img' }, params: { x: 0, y: 0, width: 32, height: 32 } } },
      outputs: { cut: 'cut.stack' },
    }));
    const registry = new PluginRegistry();
    for (const plugin of builtinPlugins) registry.registerPlugin(plugin, 'builtin');
    const container = createContainer({ catalog: registry, logger: new MemoryLogger(), threads: 1 });
    const events = await watchOnce(inDir, out, { pipelineFile, runner: container.resolve(PipelineRunner) });
    const failed = of(events, 'job-failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ node: 'cut', op: 'stack.crop' });
    const report = JSON.parse(readFileSync(join(out, 'failed', 'small.json'), 'utf8')) as { input: string; error: { code: string; message: string; node: string; op: string } };
    expect(report.input).toBe(join(inDir, 'small.tif'));
    expect(report.error).toMatchObject({ node: 'cut', op: 'stack.crop' });
    expect(report.error.message.length).toBeGreaterThan(0);
    expect(readFileSync(join(out, 'failed', 'small.txt'), 'utf8')).toMatch(/\(node cut, op stack\.crop\)/);
    expect(existsSync(join(out, 'small'))).toBe(false); // nothing half-written for the failed input
    const s = await readTiff(join(out, 'big', 'cut.tif'));
    expect([s.width, s.height]).toEqual([32, 32]);
  });

  it('processes an MMStack series that never completes after the acquisition timeout, with a warning', async () => {
    const { inDir, out } = setup();
    cpSync(join(FX, 'mmstack_missing'), inDir, { recursive: true });
    const t0 = Date.now();
    const events = await watchOnce(inDir, out, { acquisitionTimeoutMs: 600 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(600);
    expect(of(events, 'warning').map((e) => (e as { message: string }).message).join('\n')).toMatch(/still incomplete .*is missing.*processing what is there/);
    const s = await readTiff(join(out, 'Exp_MMStack_Pos0', 'copy.tif'));
    expect([s.sizeC, s.sizeZ, s.sizeT]).toEqual([2, 3, 2]);
  });

  it('builds one stack from an img_* folder in channel/z order (sizes and calibration from metadata.txt)', async () => {
    const { inDir, out } = setup();
    const acq = join(inDir, 'acq_1');
    mkdirSync(acq);
    writeFileSync(join(acq, 'metadata.txt'), JSON.stringify({ Summary: { Channels: 2, Slices: 3, Frames: 1, ChNames: ['DAPI', 'FITC'], 'z-step_um': 0.5, PixelSize_um: 0.325 } }));
    for (let c = 0; c < 2; c++) {
      for (let z = 0; z < 3; z++) {
        const plane = new Uint16Array(8 * 6).fill(100 * c + z);
        await writeTiff(join(acq, `img_channel00${c}_position000_time000000000_z00${z}.tif`), createStack({ width: 8, height: 6, dtype: 'uint16', planes: [plane] }));
      }
    }
    const events = await watchOnce(inDir, out);
    expect(of(events, 'job-queued')).toMatchObject([{ kind: 'img-folder', files: 7 }]);
    const s = await readTiff(join(out, 'acq_1', 'copy.tif'));
    expect([s.sizeC, s.sizeZ, s.sizeT]).toEqual([2, 3, 1]);
    expect(s.planes.map((p) => p[0])).toEqual([0, 100, 1, 101, 2, 102]); // XYCZT
    expect(s.calibration.zStepUm).toBeCloseTo(0.5, 6);
    expect(s.calibration.pixelWidthUm).toBeCloseTo(0.325, 6);
    expect(s.calibration.pixelHeightUm).toBeCloseTo(0.325, 6);
    expect(readdirSync(join(out, '.focal-watch'))).toEqual(['ledger.jsonl']); // the assembled stack is removed
  });

  it('follows an NDTiff index: each time point is processed as soon as the next one starts, the last when the index is closed (truncated)', async () => {
    const { inDir, out } = setup();
    const folder = join(inDir, 'acq', 'Full resolution');
    mkdirSync(folder, { recursive: true });
    const w = 6;
    const h = 4;
    const { header, summary } = ndTiffHeader({ PixelSize_um: 0.5, 'z-step_um': 2 });
    const tif = join(folder, 'acq_NDTiffStack.tif');
    const index = join(folder, 'NDTiff.index');
    writeFileSync(tif, Buffer.concat([header, summary]));
    // like Micro-Manager: a pre-allocated, zero-filled index written in place, truncated when closed
    const indexBuf = Buffer.alloc(64 * 1024);
    let indexLen = 0;
    writeFileSync(index, indexBuf);
    let offset = 24 + summary.length;
    const addPlane = (t: number, c: string, z: number) => {
      const px = Buffer.alloc(w * h * 2);
      for (let i = 0; i < w * h; i++) px.writeUInt16LE(1000 * t + (c === 'FITC' ? 100 : 0) + z, 2 * i);
      appendFileSync(tif, px);
      const axes = Buffer.from(JSON.stringify({ channel: c, z, time: t }));
      const name = Buffer.from('acq_NDTiffStack.tif');
      const entry = Buffer.alloc(4 + axes.length + 4 + name.length + 32);
      let p = entry.writeUInt32LE(axes.length, 0);
      p += axes.copy(entry, p);
      p = entry.writeUInt32LE(name.length, p);
      p += name.copy(entry, p);
      for (const v of [offset, w, h, 1, 0, 0, 0, 0]) p = entry.writeUInt32LE(v, p);
      entry.copy(indexBuf, indexLen);
      indexLen += entry.length;
      writeFileSync(index, indexBuf);
      offset += px.length;
    };
    const registry = new PluginRegistry();
    const container = createContainer({ catalog: registry, logger: new MemoryLogger(), threads: 1 });
    const events: WatchEvent[] = [];
    const watcher = new FolderWatcher({ dir: inDir, outDir: out, pipelineFile: copyPipeline(join(out, '..')), inputName: 'img', settleMs: 60, acquisitionTimeoutMs: 10_000, runner: container.resolve(PipelineRunner), onEvent: (e) => events.push(e) });
    await watcher.start();
    const waitFor = async (pred: () => boolean) => {
      const until = Date.now() + 8000;
      while (!pred()) {
        if (Date.now() > until) throw new Error(`timed out: ${JSON.stringify(events)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    for (const z of [0, 1, 2]) for (const c of ['DAPI', 'FITC']) addPlane(0, c, z);
    addPlane(1, 'DAPI', 0); // time point 1 has started: time point 0 is complete
    await waitFor(() => of(events, 'job-done').length === 1);
    expect(of(events, 'job-queued')).toMatchObject([{ kind: 'ndtiff', input: `${folder}#time0000` }]);
    const t0 = await readTiff(join(out, 'acq_time0000', 'copy.tif'));
    expect([t0.sizeC, t0.sizeZ, t0.sizeT, t0.dtype]).toEqual([2, 3, 1, 'uint16']);
    expect(t0.planes.map((p) => p[5])).toEqual([0, 100, 1, 101, 2, 102]);
    expect(t0.calibration.pixelWidthUm).toBeCloseTo(0.5, 6);
    expect(t0.calibration.zStepUm).toBeCloseTo(2, 6);
    for (const z of [0, 1, 2]) for (const c of ['DAPI', 'FITC']) if (z > 0 || c === 'FITC') addPlane(1, c, z);
    await new Promise((r) => setTimeout(r, 300));
    expect(of(events, 'job-queued')).toHaveLength(1); // the last time point waits for the index to close
    writeFileSync(index, indexBuf.subarray(0, indexLen)); // closed: truncated to its entries
    await waitFor(() => of(events, 'job-done').length === 2);
    await watcher.stop();
    const t1 = await readTiff(join(out, 'acq_time0001', 'copy.tif'));
    expect(t1.planes.map((p) => p[0])).toEqual([1000, 1100, 1001, 1101, 1002, 1102]);
  });

  it('recovers a job that crashed after its output folder was renamed, without re-running it', async () => {
    const { inDir, out } = setup();
    cpSync(join(FX, 'mmstack'), inDir, { recursive: true });
    await watchOnce(inDir, out);
    // the crash: the `done` line never reached the ledger
    const ledgerFile = join(out, '.focal-watch', 'ledger.jsonl');
    const lines = readFileSync(ledgerFile, 'utf8').trim().split('\n');
    expect(JSON.parse(lines.at(-1)!).state).toBe('done');
    writeFileSync(ledgerFile, `${lines.slice(0, -1).join('\n')}\n{"v":1,"torn`);
    const events = await watchOnce(inDir, out);
    expect(of(events, 'job-started')).toEqual([]);
    expect(of(events, 'job-done')).toMatchObject([{ recovered: true }]);
    const ledger = Ledger.open(out);
    expect([...ledger.jobs.values()].map((r) => [r.state, r.recovered])).toEqual([['done', true]]);
    ledger.close();
  });

  it('re-runs a job that crashed mid-run (temp folder removed, same output name) and re-processes changed content into a new folder', async () => {
    const { inDir, out } = setup();
    cpSync(join(FX, 'mmstack'), inDir, { recursive: true });
    await watchOnce(inDir, out);
    const ledgerFile = join(out, '.focal-watch', 'ledger.jsonl');
    const lines = readFileSync(ledgerFile, 'utf8').trim().split('\n');
    const running = JSON.parse(lines.at(-1)!) as { id: string };
    // the crash: killed before the rename; the temp folder holds half the outputs
    writeFileSync(ledgerFile, `${lines.slice(0, -1).join('\n')}\n`);
    cpSync(join(out, 'Exp_MMStack_Pos0'), join(out, '.focal-watch', `tmp-${running.id}`), { recursive: true });
    rmSync(join(out, '.focal-watch', `tmp-${running.id}`, 'run.json'));
    rmSync(join(out, 'Exp_MMStack_Pos0'), { recursive: true });
    const events = await watchOnce(inDir, out);
    expect(of(events, 'job-started')).toMatchObject([{ id: running.id }]);
    expect(existsSync(join(out, '.focal-watch', `tmp-${running.id}`))).toBe(false);
    expect(of(events, 'job-done')).toMatchObject([{ id: running.id, output: join(out, 'Exp_MMStack_Pos0') }]);
    expect(existsSync(join(out, 'Exp_MMStack_Pos0', 'run.json'))).toBe(true);
    // changed content at the same path: processed again
    cpSync(join(FX, 'mm_interrupted', 'Int_MMStack_Pos0.ome.tif'), join(inDir, 'Exp_MMStack_Pos0_1.ome.tif'));
    const again = await watchOnce(inDir, out, { acquisitionTimeoutMs: 300 });
    expect(of(again, 'job-queued')).toHaveLength(1);
    expect(of(again, 'job-done')).toMatchObject([{ output: expect.stringMatching(/Exp_MMStack_Pos0-[0-9a-f]{8}$/) }]);
    expect(existsSync(join(out, 'Exp_MMStack_Pos0', 'copy.tif'))).toBe(true); // the earlier output is kept
  });
});

describe('watch engine: symbolic links and vanished inputs (issue 25)', () => {
  const tiny = (file: string, v: number) => writeTiff(file, createStack({ width: 8, height: 8, dtype: 'uint8', planes: [new Uint8Array(64).fill(v)] }));
  /** Output folders holding a run (a run.json), relative to the output folder. */
  const runs = (out: string): string[] => {
    const found: string[] = [];
    const walk = (d: string, rel: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.name.startsWith('.') || (rel === '' && e.name === 'failed')) continue;
        if (e.isDirectory()) walk(join(d, e.name), rel ? `${rel}/${e.name}` : e.name);
        else if (e.name === 'run.json') found.push(rel);
      }
    };
    walk(out, '');
    return found.sort();
  };

  it('a symlink loop (in/loop → in) is processed once: not followed by default, entered once with --follow-symlinks', async () => {
    for (const follow of [false, true]) {
      const { inDir, out } = setup();
      mkdirSync(join(inDir, 'sub'));
      await tiny(join(inDir, 'a.tif'), 1);
      await tiny(join(inDir, 'sub', 'b.tif'), 2);
      symlinkSync(inDir, join(inDir, 'loop'));
      symlinkSync(inDir, join(inDir, 'sub', 'back'));
      const events = await watchOnce(inDir, out, { followSymlinks: follow });
      expect(of(events, 'job-done')).toHaveLength(2);
      expect(runs(out)).toEqual(['a', 'sub/b']);
      expect(of(events, 'job-failed')).toHaveLength(0);
      if (follow) {
        const skipped = of(events, 'job-skipped') as Extract<WatchEvent, { event: 'job-skipped' }>[];
        expect(skipped.some((e) => e.link && /not entered again/.test(e.reason))).toBe(true);
      }
    }
  });

  it('links to files and folders outside the watched folder are skipped by default (reported), processed with --follow-symlinks', async () => {
    for (const follow of [false, true]) {
      const { inDir, out } = setup();
      const outside = join(inDir, '..', 'outside');
      mkdirSync(join(outside, 'dir'), { recursive: true });
      await tiny(join(outside, 'x.tif'), 7);
      await tiny(join(outside, 'dir', 'y.tif'), 8);
      await tiny(join(inDir, 'a.tif'), 1);
      symlinkSync(join(outside, 'x.tif'), join(inDir, 'ext.tif'));
      symlinkSync(join(outside, 'dir'), join(inDir, 'extdir'));
      symlinkSync(join(inDir, 'a.tif'), join(inDir, 'again.tif')); // a second path to a file inside
      const events = await watchOnce(inDir, out, { followSymlinks: follow });
      const skipped = of(events, 'job-skipped') as Extract<WatchEvent, { event: 'job-skipped' }>[];
      if (!follow) {
        expect(runs(out)).toEqual(['a']);
        const ext = skipped.find((e) => e.input === join(inDir, 'ext.tif'));
        expect(ext?.reason).toMatch(/a symbolic link; not followed \(use --follow-symlinks/);
      } else {
        // outside targets are followed; the second path to a.tif is not processed twice
        expect(runs(out).filter((r) => r !== 'a' && r !== 'again')).toEqual(['ext', 'extdir/y']);
        expect(runs(out).filter((r) => r === 'a' || r === 'again')).toHaveLength(1);
        expect(skipped.some((e) => /same file as/.test(e.reason))).toBe(true);
      }
    }
  });

  it('an input renamed or deleted while its job runs is reported as "input vanished" and not retried', async () => {
    const { inDir, out } = setup();
    await tiny(join(inDir, 'gone.tif'), 3);
    await tiny(join(inDir, 'stays.tif'), 4);
    const container = createContainer({ catalog: new PluginRegistry(), logger: new MemoryLogger(), threads: 1 });
    const real = container.resolve(PipelineRunner);
    let runs = 0;
    const runner = {
      run: async (req: Parameters<PipelineRunner['run']>[0]) => {
        runs++;
        const input = Object.values(req.inputs ?? {})[0] as string;
        if (input.endsWith('gone.tif')) unlinkSync(input); // deleted while the job runs
        return real.run(req);
      },
    };
    const events = await watchOnce(inDir, out, { runner });
    const failed = of(events, 'job-failed') as Extract<WatchEvent, { event: 'job-failed' }>[];
    expect(failed).toHaveLength(1);
    expect(failed[0].code).toBe('E_INPUT_VANISHED');
    expect(failed[0].message).toMatch(/^input vanished: .*gone\.tif was renamed or deleted while its job ran; the job is not retried/);
    expect(of(events, 'job-done')).toHaveLength(1);
    expect(runs).toBe(2);
    const report = JSON.parse(readFileSync(join(out, 'failed', 'gone.json'), 'utf8')) as { error: { code: string } };
    expect(report.error.code).toBe('E_INPUT_VANISHED');
    const ledger = readFileSync(join(out, '.focal-watch', 'ledger.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { state: string; key: string });
    expect(ledger.filter((r) => r.key.endsWith('gone.tif')).map((r) => r.state)).toEqual(['queued', 'running', 'failed']);
    // a restart does not retry it
    const again = await watchOnce(inDir, out, { runner });
    expect(of(again, 'job-failed')).toHaveLength(0);
    expect(runs).toBe(2);
  });
});

describe('a job running when the watcher crashed', () => {
  /** What a crash (or kill -9) leaves: the job's latest ledger record back in state `running`, no output folder. */
  function crashDuring(out: string): string {
    const file = join(out, '.focal-watch', 'ledger.jsonl');
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const last = lines[lines.length - 1];
    appendFileSync(file, `${JSON.stringify({ ...last, state: 'running', t: new Date().toISOString() })}\n`);
    rmSync(join(out, last.output), { recursive: true, force: true });
    return last.id;
  }

  it('is recorded as failed and retried after the first crash, and quarantined with a report after the second', async () => {
    const { inDir, out } = setup();
    cpSync(join(ROOT, 'samples', 'beads-zstack.tif'), join(inDir, 'beads.tif'));
    expect(of(await watchOnce(inDir, out), 'job-done')).toHaveLength(1);

    const id = crashDuring(out);
    const second = await watchOnce(inDir, out);
    expect(of(second, 'warning').map((e) => (e as { message: string }).message).join('\n')).toMatch(/beads\.tif: the watcher ended \(crash or kill\) while this job ran; it runs once more/);
    expect(of(second, 'job-done')).toHaveLength(1);
    const history = readFileSync(join(out, '.focal-watch', 'ledger.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.id === id);
    const failedAt = history.findIndex((r) => r.state === 'failed' && r.error?.code === 'E_WATCHER_CRASHED');
    expect(failedAt).toBeGreaterThanOrEqual(0);
    expect(history.slice(failedAt + 1).map((r) => r.state)).toEqual(['queued', 'running', 'done']);
    expect(history[history.length - 1].crashes).toBe(1);

    crashDuring(out);
    const third = await watchOnce(inDir, out);
    expect(of(third, 'job-started')).toHaveLength(0);
    const failed = of(third, 'job-failed') as Extract<WatchEvent, { event: 'job-failed' }>[];
    expect(failed).toHaveLength(1);
    expect(failed[0].code).toBe('E_QUARANTINED');
    expect(failed[0].message).toMatch(/quarantined: the watcher ended \(crash or kill\) 2 times while this job ran/);
    const report = JSON.parse(readFileSync(failed[0].report, 'utf8'));
    expect(report).toMatchObject({ input: join(inDir, 'beads.tif'), error: { code: 'E_QUARANTINED', crashes: 2 } });
    // and it stays quarantined
    const fourth = await watchOnce(inDir, out);
    expect(of(fourth, 'job-started')).toHaveLength(0);
  }, 60_000);
});
