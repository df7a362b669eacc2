import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { WatchEvent } from '../../watch/engine.js';
import { App } from '../App.js';
import { KEY, renderTui, testServices } from '../test-utils/render.js';
import type { WatchController } from '../watch-state.js';

const dir = mkdtempSync(join(tmpdir(), 'focal-watchui-'));
mkdirSync(join(dir, 'incoming'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A controller that records calls and lets the test emit the engine's events. */
function fakeController() {
  const calls: string[] = [];
  let emit: (e: WatchEvent) => void = () => undefined;
  const controller: WatchController = {
    async start(o) {
      calls.push(`start ${o.folder} ${o.pipelineFile} ${o.outDir}`);
      emit = o.onEvent;
      o.onEvent({ event: 'watch-ready', ts: Date.now(), dir: o.folder, out: o.outDir, recovered: 0, pending: 0 });
    },
    async stop() {
      calls.push('stop');
    },
  };
  return { controller, calls, emit: (e: WatchEvent) => emit(e) };
}

describe('watch dashboard', () => {
  it('sets folder and pipeline, starts, shows queue/running/done/failed and the last error, stops', async () => {
    const services = testServices(dir);
    const fake = fakeController();
    const t = renderTui(<App services={services} watch={fake.controller} />);
    await t.waitFor('bundled');
    await t.press('w');
    const empty = await t.waitFor('Focal · watch');
    expect(empty).toContain('state: stopped');
    expect(empty).toContain('folder:   (f to pick)');
    await t.press('s');
    expect(await t.waitFor('first')).toContain('set the folder (f), pipeline (p), out dir (o) first');
    await t.press('f');
    await t.waitFor('incoming/');
    await t.press(KEY.enter, '.');
    await t.waitFor('folder:   incoming');
    await t.press('p');
    await t.waitFor('best-focus');
    await t.press(KEY.enter);
    const ready = await t.waitFor('out:      out/watch-');
    expect(ready).toMatch(/pipeline: .*best-focus\.json/);
    await t.press('s');
    await t.waitFor('state: watching');
    expect(fake.calls[0]).toMatch(new RegExp(`^start ${join(dir, 'incoming')} .*best-focus\\.json ${join(dir, 'out')}/watch-`));
    const ts = Date.now();
    fake.emit({ event: 'job-queued', ts, id: '1', input: 'incoming/a.tif', kind: 'file', files: 1, output: 'a' });
    fake.emit({ event: 'job-queued', ts, id: '2', input: 'incoming/b.tif', kind: 'file', files: 1, output: 'b' });
    fake.emit({ event: 'job-queued', ts, id: '3', input: 'incoming/c.tif', kind: 'file', files: 1, output: 'c' });
    fake.emit({ event: 'job-started', ts, id: '1', input: 'incoming/a.tif' });
    fake.emit({ event: 'job-done', ts, id: '1', input: 'incoming/a.tif', output: 'a', ms: 500, outputs: [] });
    fake.emit({ event: 'job-started', ts, id: '2', input: 'incoming/b.tif' });
    fake.emit({ event: 'job-failed', ts, id: '2', input: 'incoming/b.tif', code: 'E_FORMAT', message: 'not a TIFF', node: 'load', op: 'stack.project', report: 'failed/b' });
    fake.emit({ event: 'job-started', ts, id: '3', input: 'incoming/c.tif' });
    const busy = await t.waitFor('failed 1');
    expect(busy).toMatch(/queued 0\s+running 1\s+done 1\s+failed 1\s+[\d.]+ files\/min/);
    expect(busy).toContain('running: incoming/c.tif');
    expect(busy).toContain('incoming/b.tif [load stack.project] E_FORMAT: not a TIFF');
    expect(busy).toContain('x stop watching');
    await t.press('x');
    await t.waitFor('state: stopped');
    expect(fake.calls).toContain('stop');
    t.unmount();
  });
});
