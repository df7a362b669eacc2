import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSyntheticZStack } from '../bench/cancel.js';

/**
 * End to end through a real terminal: `focal tui` in detached tmux sessions (80×24, 120×40,
 * 200×60 and a too-small 60×20), driven with send-keys and read with capture-pane. Runs after
 * `npm run build` (uses dist/cli/main.js). In CI (CI set) a missing tmux fails the test;
 * locally it is skipped. Every wait polls the pane with a deadline (no fixed sleeps).
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'dist/cli/main.js');
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const inCI = Boolean(process.env.CI);
if (!hasTmux && !inCI) console.warn('test/tui-tmux.test.ts skipped: tmux is not installed (apt-get install -y tmux; scripts/install-system-deps.sh installs it)');

const socket = `focal-tui-test-${process.pid}`;
const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'focal-tmux-'));
afterAll(() => {
  if (hasTmux) tmux('kill-server');
  rmSync(dir, { recursive: true, force: true });
});

/** The visible pane, one string per row (exactly the pane's height: capture-pane pads with empty rows). */
function capture(session: string, escapes = false): string {
  const r = tmux('capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', session);
  return r.stdout;
}
const rowsOf = (screen: string) => screen.replace(/\n$/, '').split('\n');

async function waitForScreen(session: string, test: (screen: string) => boolean, what: string, timeoutMs: number): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const s = capture(session);
    if (test(s)) return s;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; screen:\n${s}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until the pane has shown the same text for `quietMs` (Ink has finished redrawing). */
async function waitForStill(session: string, test: (screen: string) => boolean, what: string, timeoutMs: number, quietMs = 400): Promise<string> {
  const t0 = Date.now();
  let last = '';
  let since = Date.now();
  for (;;) {
    const s = capture(session, true);
    if (s !== last) {
      last = s;
      since = Date.now();
    } else if (Date.now() - since >= quietMs && test(capture(session))) return capture(session);
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} to settle; screen:\n${capture(session)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function keys(session: string, ...k: string[]): Promise<void> {
  for (const key of k) {
    expect(tmux('send-keys', '-t', session, key).status).toBe(0);
    await new Promise((r) => setTimeout(r, 120));
  }
}

/** Lines that scrolled off the top of the pane: any means the UI printed more rows than the terminal has. */
const historySize = (session: string) => Number(tmux('display-message', '-p', '-t', session, '#{history_size}').stdout.trim());

function start(session: string, columns: number, rows: number, args: string, env = ''): void {
  const cmd = `cd '${dir}' && env ${env} FOCAL_THREADS=1 '${process.execPath}' '${main}' tui ${args}; echo "EXITED rc=$?"; sleep 30`;
  expect(tmux('new-session', '-d', '-s', session, '-x', String(columns), '-y', String(rows), cmd).status).toBe(0);
}

/** Width and height of a PNG (from its IHDR chunk). */
function pngSize(file: string): { width: number; height: number } {
  const b = readFileSync(file);
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

function checkBuilt(): void {
  expect(hasTmux, 'tmux is required in CI: scripts/install-system-deps.sh installs it').toBe(true);
  expect(existsSync(main), `${main} is missing: run npm run build first`).toBe(true);
  expect(existsSync(join(root, 'dist/cli/tui/index.js')), 'dist/cli/tui/index.js is missing: run npm run build').toBe(true);
}

const RESULTS_KEYS = '↑/↓ output  esc back  p pipelines  q quit';

/**
 * The results screen of the demo at `columns`×`rows`: the title on the first row, the key line on
 * the last but one (the last stays free for the cursor), each output and preview path exactly
 * once and uncorrupted, the half-block picture whole (its aspect ratio the PNG's) and as large as
 * the space between its caption and the key line allows; nothing wider than the pane and nothing
 * scrolled off its top.
 */
function checkResults(session: string, screen: string, columns: number, rows: number, out: string): void {
  const lines = rowsOf(screen);
  expect(lines.length).toBe(rows);
  expect(historySize(session)).toBe(0);
  for (const l of lines) expect([...l].length).toBeLessThanOrEqual(columns);
  expect(lines[0]).toBe('Focal · results denoise-project');
  expect(lines[1]).toMatch(/^done in \d+\.\d\d s · provenance: out-\d+x\d+\/run\.json$/);
  expect(lines[rows - 2].trimEnd()).toBe(RESULTS_KEYS);
  expect(lines[rows - 1]).toBe('');
  const o = out.slice(dir.length + 1);
  // each output once, in order, with nothing left over from an earlier frame
  expect(lines.slice(2, 6).map((l) => l.trimEnd())).toEqual([`› mip (stack): ${o}/mip.tif`, `    preview: ${o}/mip.png`, `  nuclei (stack): ${o}/nuclei.tif`, `    preview: ${o}/nuclei.png`]);
  expect(lines.filter((l) => l.includes('(stack):')).length).toBe(2);
  expect(lines.filter((l) => l.includes(RESULTS_KEYS)).length).toBe(1);
  expect(lines.filter((l) => l.startsWith('Focal ·')).length).toBe(1);
  // the picture: contiguous rows of '▀' right under its caption, ending above the key line
  const caption = lines.findIndex((l) => l.startsWith(`mip: ${o}/mip.png (half-block preview)`));
  expect(caption).toBeGreaterThan(5);
  const pic = lines.map((l, i) => (l.includes('▀') ? i : -1)).filter((i) => i >= 0);
  expect(pic[0]).toBe(caption + 1);
  expect(pic[pic.length - 1] - pic[0] + 1).toBe(pic.length);
  expect(pic[pic.length - 1]).toBeLessThan(rows - 2);
  const cols = [...lines[pic[0]].trimEnd()].length;
  for (const i of pic) expect([...lines[i].trimEnd()]).toEqual(Array<string>(cols).fill('▀'));
  // whole: 1 pixel wide and 2 high per cell, so cols / (2 × rows) is the PNG's width / height
  const png = pngSize(join(out, 'mip.png'));
  expect(Math.abs(cols / (2 * pic.length) - png.width / png.height)).toBeLessThan(png.width / png.height / Math.min(cols, pic.length) + 0.05);
  // as large as the space allows: the rows up to the key line, or the full width
  const space = rows - 2 - (caption + 1);
  expect(pic.length === space || pic.length === Math.round(png.height / 2) || cols >= columns - 2, `picture ${cols}×${pic.length} in ${columns}×${space}`).toBe(true);
}

describe.skipIf(!hasTmux && !inCI)('focal tui in tmux', () => {
  it('picks the demo pipeline at 80×24, runs it to "done", lists the results and writes the files; no colour with NO_COLOR', async () => {
    checkBuilt();
    const session = 'nocolor';
    const out = join(dir, 'out');
    start(session, 80, 24, `--out '${out}'`, 'NO_COLOR=1');

    await waitForScreen(session, (s) => s.includes('Focal · pipelines') && s.includes('bundled'), 'the pipeline list', 30_000);
    for (let i = 0; i < 40 && !/› denoise-project\s/.test(capture(session)); i++) await keys(session, 'Down');
    expect(capture(session)).toMatch(/› denoise-project\s+bundled/);
    await keys(session, 'Enter');
    const graph = await waitForScreen(session, (s) => s.includes('Focal · pipeline denoise-project'), 'the demo graph', 20_000);
    expect(graph).toMatch(/denoise\s+filter\.gaussian\s+stack ← stack/);

    await keys(session, 'r');
    const done = await waitForScreen(session, (s) => s.includes('done in'), '"done"', 90_000);
    expect(done).toContain('Focal · run denoise-project');
    expect(done).toContain('4/4 nodes');
    expect(done).toMatch(/nuclei8bit\s+stack\.convert\s+█+\s+100%/);
    expect(done).toContain('2 outputs written');
    // 80×24: nothing past column 80 or row 24
    const lines = rowsOf(done);
    expect(lines.length).toBeLessThanOrEqual(24);
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(80);
    expect(historySize(session)).toBe(0);
    // NO_COLOR: no foreground/background colour codes on screen
    // eslint-disable-next-line no-control-regex
    expect(capture(session, true)).not.toMatch(/\u001B\[[0-9;]*(3[0-8]|4[0-8]|9[0-7]|10[0-7])(;[0-9;]*)?m/);

    await keys(session, 'Enter');
    const results = await waitForScreen(session, (s) => s.includes('Focal · results denoise-project'), 'the results', 10_000);
    expect(results).toMatch(/mip \(stack\): out\/mip\.tif/);
    expect(results).toContain('preview: out/mip.png');
    expect(results).toMatch(/nuclei \(stack\): out\/nuclei\.tif/);

    await keys(session, 'q');
    await waitForScreen(session, (s) => s.includes('EXITED rc=0'), 'the TUI to exit', 10_000);
    for (const f of ['mip.tif', 'mip.png', 'nuclei.tif', 'nuclei.png', 'run.json']) expect(existsSync(join(out, f)), f).toBe(true);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { pipeline: { name: string }; outputs: { name: string }[] };
    expect(run.pipeline.name).toBe('denoise-project');
    expect(run.outputs.map((o) => o.name).sort()).toEqual(['mip', 'nuclei']);
  });

  for (const [columns, rows] of [
    [80, 24],
    [120, 40],
    [200, 60],
  ] as const) {
    it(`lays the results screen out to ${columns}×${rows}: title and keys on their rows, no stray lines, the whole picture`, async () => {
      checkBuilt();
      const session = `r${columns}x${rows}`;
      const out = join(dir, `out-${columns}x${rows}`);
      mkdirSync(out, { recursive: true });
      start(session, columns, rows, `'${join(root, 'pipelines/denoise-project.json')}' --out '${out}'`, '-u NO_COLOR');
      const graph = await waitForScreen(session, (s) => s.includes('Focal · pipeline denoise-project') && s.includes('? help'), 'the demo graph', 30_000);
      expect(rowsOf(graph)[0]).toBe('Focal · pipeline denoise-project');
      expect(rowsOf(graph)[rows - 2]).toMatch(/^↑\/↓ move  enter edit\/pick .* \? help\s*$/);
      await keys(session, 'r');
      const done = await waitForScreen(session, (s) => s.includes('2 outputs written'), '"done"', 60_000);
      expect(rowsOf(done)[0]).toBe('Focal · run denoise-project');
      expect(rowsOf(done)[rows - 2]).toMatch(/^enter results  esc back  q quit\s*$/);
      await keys(session, 'Enter');
      const results = await waitForStill(session, (s) => s.includes('Focal · results denoise-project') && s.includes('▀'), 'the results with the picture', 15_000);
      checkResults(session, results, columns, rows, out);
      await keys(session, 'q');
      await waitForScreen(session, (s) => s.includes('EXITED rc=0'), 'the TUI to exit', 10_000);
    });
  }

  it('says the terminal is too small at 60×20, and comes back when it grows (and after a shrink on the results screen)', async () => {
    checkBuilt();
    const session = 'small';
    const out = join(dir, 'out-small');
    mkdirSync(out, { recursive: true });
    start(session, 60, 20, `'${join(root, 'pipelines/denoise-project.json')}' --out '${out}'`, '-u NO_COLOR');
    const small = await waitForStill(session, (s) => s.includes('80 × 24'), 'the too-small message', 30_000);
    const lines = rowsOf(small);
    expect(lines.length).toBe(20);
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(60);
    expect(small).toContain('Focal needs a terminal of at least 80 × 24');
    expect(small).toContain('This one is 60 × 20');
    expect(small).not.toContain('Focal · pipeline');
    expect(historySize(session)).toBe(0);

    // grows: the screen it hid is back, laid out to the new size
    expect(tmux('resize-window', '-t', session, '-x', '120', '-y', '40').status).toBe(0);
    const graph = await waitForStill(session, (s) => s.includes('Focal · pipeline denoise-project'), 'the graph after growing', 10_000);
    expect(rowsOf(graph)[0]).toBe('Focal · pipeline denoise-project');
    expect(rowsOf(graph)[38]).toMatch(/^↑\/↓ move .* \? help\s*$/);
    expect(graph).not.toContain('80 × 24');
    await keys(session, 'r');
    await waitForScreen(session, (s) => s.includes('2 outputs written'), '"done"', 60_000);
    await keys(session, 'Enter');
    await waitForStill(session, (s) => s.includes('Focal · results denoise-project') && s.includes('▀'), 'the results', 15_000);

    // shrinks below the minimum on the results screen, then grows back: the same results, clean
    expect(tmux('resize-window', '-t', session, '-x', '70', '-y', '30').status).toBe(0);
    const narrow = await waitForStill(session, (s) => s.includes('This one is 70 × 30'), 'the too-small message at 70×30', 10_000);
    expect(narrow).not.toContain('▀');
    expect(narrow).not.toContain('results denoise-project');
    expect(tmux('resize-window', '-t', session, '-x', '120', '-y', '40').status).toBe(0);
    const back = await waitForStill(session, (s) => s.includes('Focal · results denoise-project') && s.includes('▀'), 'the results after growing', 10_000);
    expect(rowsOf(back)[0]).toBe('Focal · results denoise-project');
    expect(rowsOf(back)[38].trimEnd()).toBe(RESULTS_KEYS);
    expect(back).not.toContain('80 × 24');
    expect(rowsOf(back).filter((l) => l.includes('(stack):')).length).toBe(2);
    await keys(session, 'q');
    await waitForScreen(session, (s) => s.includes('EXITED rc=0'), 'the TUI to exit', 10_000);
  });

  it('c stops a running operation that never yields (the run has a thread of its own) and leaves no output folder', async () => {
    checkBuilt();
    const session = 'cancel';
    const input = await writeSyntheticZStack(join(dir, 'long-input.tif'), { size: 1024, sizeZ: 31 });
    const pipeline = join(dir, 'long.json');
    writeFileSync(pipeline, JSON.stringify({
      name: 'long',
      inputs: { stack: { type: 'stack', default: input } },
      nodes: { blur: { op: 'filter.gaussian', in: { stack: 'stack' }, params: { sigmaUm: 6 } } },
      outputs: { blurred: 'blur.stack' },
    }));
    const out = join(dir, 'cancel-out', 'nested');
    start(session, 100, 30, `'${pipeline}' --out '${out}'`, 'NO_COLOR=1');
    await waitForScreen(session, (s) => s.includes('Focal · pipeline long'), 'the pipeline screen', 30_000);
    await keys(session, 'r');
    await waitForScreen(session, (s) => /running · /.test(s) && /blur\s+filter\.gaussian/.test(s), 'the running blur', 30_000);
    await keys(session, 'c');
    const stopped = await waitForScreen(session, (s) => s.includes('cancelled after'), '"cancelled after"', 15_000);
    expect(stopped).not.toMatch(/blur\s+filter\.gaussian\s+█+\s+100%/);
    expect(existsSync(join(dir, 'cancel-out'))).toBe(false);
    // the screen is live: back to the pipeline, and quit
    await keys(session, 'Escape');
    await waitForScreen(session, (s) => s.includes('Focal · pipeline long'), 'the pipeline screen again', 10_000);
    await keys(session, 'q');
    await waitForScreen(session, (s) => s.includes('EXITED rc=0'), 'the TUI to exit', 10_000);
  });
});
