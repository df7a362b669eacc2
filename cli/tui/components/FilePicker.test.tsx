import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KEY, renderTui } from '../test-utils/render.js';
import { FilePicker } from './FilePicker.js';

const dir = mkdtempSync(join(tmpdir(), 'focal-picker-'));
mkdirSync(join(dir, 'sub'));
for (const f of ['a.tif', 'b.txt', 'c.CSV', 'sub/d.tiff', 'sub/e.png']) writeFileSync(join(dir, f), 'x');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('FilePicker', () => {
  it('lists folders then .tif/.tiff/.json/.csv files, opens folders, goes up, picks a file', async () => {
    const picked: string[] = [];
    const t = renderTui(<FilePicker title="file for input stack" start={dir} onPick={(f) => picked.push(f)} onCancel={() => undefined} />);
    const top = await t.waitFor('a.tif');
    expect(top).toMatch(/› sub\/\n\s+a\.tif\n\s+c\.CSV/);
    expect(top).not.toContain('b.txt');
    await t.press(KEY.enter);
    const sub = await t.waitFor('d.tiff');
    expect(sub).not.toContain('e.png');
    await t.press(KEY.backspace);
    await t.waitFor('a.tif');
    await t.press(KEY.down, KEY.enter);
    expect(picked).toEqual([join(dir, 'a.tif')]);
    t.unmount();
  });

  it('picks a folder with "." in folder mode', async () => {
    const picked: string[] = [];
    const t = renderTui(<FilePicker title="folder to watch" start={dir} folders onPick={(f) => picked.push(f)} onCancel={() => undefined} />);
    const f = await t.waitFor('sub/');
    expect(f).not.toContain('a.tif');
    expect(f).toContain('. pick this folder');
    await t.press(KEY.enter);
    await t.waitFor('(no sub-folders)');
    await t.press('.');
    expect(picked).toEqual([join(dir, 'sub')]);
    t.unmount();
  });
});
