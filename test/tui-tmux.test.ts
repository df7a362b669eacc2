import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * End to end through a real terminal: `focal tui` in a detached 80×24 tmux session,
 * driven with send-keys and read with capture-pane. Runs after `npm run build` (uses
 * dist/cli/main.js). In CI (CI set) a missing tmux fails the test; locally it is skipped.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'dist/cli/main.js');
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const inCI = Boolean(process.env.CI);
if (!hasTmux && !inCI) console.warn('test/tui-tmux.test.ts skipped: tmux is not installed (apt-get install -y tmux; scripts/install-system-deps.sh installs it)');

const socket = `focal-tui-test-${process.pid}`;
const session = 'tui';
const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'focal-tmux-'));
afterAll(() => {
  if (hasTmux) tmux('kill-server');
  rmSync(dir, { recursive: true, force: true });
});

function capture(escapes = false): string {
  const r = tmux('capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', session);
  return r.stdout;
}

async function waitForScreen(test: (screen: string) => boolean, what: string, timeoutMs: number): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const s = capture();
    if (test(s)) return s;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; screen:\n${s}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function keys(...k: string[]): Promise<void> {
  for (const key of k) {
    expect(tmux('send-keys', '-t', session, key).status).toBe(0);
    await new Promise((r) => setTimeout(r, 120));
  }
}

describe.skipIf(!hasTmux && !inCI)('focal tui in tmux (80×24)', () => {
  it('picks the demo pipeline, runs it to "done", lists the results and writes the files; no colour with NO_COLOR', async () => {
    expect(hasTmux, 'tmux is required in CI: scripts/install-system-deps.sh installs it').toBe(true);
    expect(existsSync(main), `${main} is missing: run npm run build first`).toBe(true);
    expect(existsSync(join(root, 'dist/cli/tui/index.js')), 'dist/cli/tui/index.js is missing: run npm run build').toBe(true);
    const out = join(dir, 'out');
    const cmd = `cd '${dir}' && env NO_COLOR=1 FOCAL_THREADS=1 '${process.execPath}' '${main}' tui --out '${out}'; echo "EXITED rc=$?"; sleep 30`;
    expect(tmux('new-session', '-d', '-s', session, '-x', '80', '-y', '24', cmd).status).toBe(0);

    await waitForScreen((s) => s.includes('Focal · pipelines') && s.includes('bundled'), 'the pipeline list', 30_000);
    for (let i = 0; i < 40 && !/› demo\s/.test(capture()); i++) await keys('Down');
    expect(capture()).toMatch(/› demo\s+bundled/);
    await keys('Enter');
    const graph = await waitForScreen((s) => s.includes('Focal · pipeline demo'), 'the demo graph', 20_000);
    expect(graph).toMatch(/denoise\s+filter\.gaussian\s+stack ← stack/);

    await keys('r');
    const done = await waitForScreen((s) => s.includes('done in'), '"done"', 90_000);
    expect(done).toContain('Focal · run demo');
    expect(done).toContain('4/4 nodes');
    expect(done).toMatch(/nuclei8bit\s+stack\.convert\s+█+\s+100%/);
    expect(done).toContain('2 outputs written');
    // 80×24: nothing past column 80 or row 24
    const lines = done.replace(/\n$/, '').split('\n');
    expect(lines.length).toBeLessThanOrEqual(24);
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(80);
    // NO_COLOR: no foreground/background colour codes on screen
    // eslint-disable-next-line no-control-regex
    expect(capture(true)).not.toMatch(/\u001B\[[0-9;]*(3[0-8]|4[0-8]|9[0-7]|10[0-7])(;[0-9;]*)?m/);

    await keys('Enter');
    const results = await waitForScreen((s) => s.includes('Focal · results demo'), 'the results', 10_000);
    expect(results).toMatch(/mip \(stack\): out\/mip\.tif/);
    expect(results).toContain('preview: out/mip.png');
    expect(results).toMatch(/nuclei \(stack\): out\/nuclei\.tif/);

    await keys('q');
    await waitForScreen((s) => s.includes('EXITED rc=0'), 'the TUI to exit', 10_000);
    for (const f of ['mip.tif', 'mip.png', 'nuclei.tif', 'nuclei.png', 'run.json']) expect(existsSync(join(out, f)), f).toBe(true);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { pipeline: { name: string }; outputs: { name: string }[] };
    expect(run.pipeline.name).toBe('demo');
    expect(run.outputs.map((o) => o.name).sort()).toEqual(['mip', 'nuclei']);
  });
});
