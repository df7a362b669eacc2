import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { catalogFromPlugins, loadPipelineFile } from '../../core/index.js';
import { builtinPlugins } from '../../plugins/index.js';
import type { WatchEvent } from '../watch/engine.js';
import { folderWatchController } from './index.js';
import { packageRoot } from './services.js';
import { initialWatchStatus, watchReducer, type WatchStatus } from './watch-state.js';

const dir = mkdtempSync(join(tmpdir(), 'focal-tui-watch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('folderWatchController (the dashboard over the real watch engine)', () => {
  it('starts the engine, feeds a landed file to the pipeline input, reports it done, and stops', async () => {
    const catalog = catalogFromPlugins(builtinPlugins);
    const controller = folderWatchController({ catalog, loadPipeline: (f) => loadPipelineFile(f, catalog) }, { settleMs: 300 });
    const incoming = join(dir, 'incoming');
    const out = join(dir, 'out');
    mkdirSync(incoming);
    let status: WatchStatus = watchReducer(initialWatchStatus, { type: 'starting', folder: incoming, out, pipeline: 'denoise-project', at: Date.now() });
    const events: WatchEvent[] = [];
    await controller.start({
      folder: incoming,
      pipelineFile: join(packageRoot(), 'pipelines/denoise-project.json'),
      outDir: out,
      onEvent: (e) => {
        events.push(e);
        status = watchReducer(status, { type: 'event', event: e });
      },
    });
    copyFileSync(resolve(packageRoot(), 'samples/cells-zstack.tif'), join(incoming, 'a.tif'));
    const t0 = Date.now();
    while (status.done < 1 && status.failed < 1 && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 100));
    await controller.stop();
    expect(status.lastErrors).toEqual([]);
    expect(status).toMatchObject({ state: 'stopped', done: 1, failed: 0, queued: 0, running: [] });
    expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(['watch-ready', 'job-queued', 'job-started', 'job-done', 'watch-stopped']));
    expect(existsSync(join(out, 'a', 'mip.tif'))).toBe(true);
  });
});
