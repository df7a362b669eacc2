import 'reflect-metadata';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../test/helpers.js';
import { testServices } from './test-utils/render.js';

const dir = mkdtempSync(join(tmpdir(), 'focal-tui-out-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('TUI run output folder', () => {
  const services = testServices(dir);

  it.each([false, true])('refuses /proc at once (edited params: %s) with a clear error', async (edited) => {
    const view = await services.openPipeline(join(ROOT, 'pipelines', 'denoise-project.json'));
    const params = Object.fromEntries(view.nodes.map((n) => [n.id, Object.fromEntries(n.fields.map((f) => [f.name, f.value]))]));
    if (edited) {
      const node = view.nodes.find((n) => n.fields.some((f) => typeof f.value === 'number'))!;
      const field = node.fields.find((f) => typeof f.value === 'number')!;
      params[node.id][field.name] = (field.value as number) + 1;
    }
    const out = '/proc/focal-tui-xyz';
    await expect(services.run({ view, params, inputs: { stack: join(ROOT, 'samples', 'cells-zstack.tif') }, outDir: out })).rejects.toThrow(/output folder \/proc\/focal-tui-xyz is not writable: it is under \/proc/);
    expect(existsSync(out)).toBe(false);
  }, 30_000);
});
