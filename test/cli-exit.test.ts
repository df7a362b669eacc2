/**
 * How `focal` ends when things outside it go wrong: the reader of its output goes away
 * (`focal schema | head -1`), or the pipeline file it was given does not exist.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, focal, ROOT, tempDir } from './helpers.js';

interface ClosedPipeResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  firstLine: string;
  stderr: string;
}

/**
 * Runs the built CLI with stdout on a pipe and closes the reading end as soon as the first
 * line has arrived (what `| head -1` does), then waits for the process to end.
 */
function runAndCloseStdoutAfterFirstLine(args: string[], timeoutMs = 90_000): Promise<ClosedPipeResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let buffered = '';
    let firstLine: string | undefined;
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (firstLine !== undefined) return;
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl >= 0) {
        firstLine = buffered.slice(0, nl);
        child.stdout.destroy(); // the reader goes away
      }
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`focal ${args.join(' ')} did not end within ${timeoutMs} ms after its stdout was closed; stderr:\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, firstLine: firstLine ?? '', stderr });
    });
  });
}

/** No stack trace, no unhandled 'error' event, no EPIPE or error text. */
function expectNoTrace(stderr: string): void {
  expect(stderr).not.toMatch(/EPIPE/);
  expect(stderr).not.toMatch(/Unhandled 'error' event|internal error|focal: error|^\s+at /m);
  expect(stderr).not.toMatch(/Error:/);
}

/** Runs `focal <args> | head -1` in bash (a real pipe); returns head's output and focal's exit status. */
function pipeIntoHead(args: string[]): { stdout: string; stderr: string; focalExit: number } {
  const r = spawnSync('bash', ['-c', '"$0" "$@" | head -1; echo "focal-exit=${PIPESTATUS[0]}" >&2', process.execPath, BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 90_000,
  });
  if (r.error) throw r.error;
  const m = /focal-exit=(\d+)\n?$/.exec(r.stderr);
  if (!m) throw new Error(`no exit status in stderr:\n${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr.slice(0, m.index), focalExit: Number(m[1]) };
}

/**
 * Either the run stopped when its reader left (exit 141, none of its outputs) or, on a slow
 * machine, it had finished before (exit 0, every output there); never a part of them, and no
 * temporary files.
 */
function expectStoppedOrFinished(out: string, exitCode: number | null): void {
  const files = existsSync(out) ? readdirSync(out).sort() : [];
  expect(files.filter((f) => f.includes('focal-tmp'))).toEqual([]);
  const expected = ['mip.tif', 'nuclei.tif', 'run.json'];
  const present = expected.filter((f) => files.includes(f));
  if (exitCode === 0) expect(present).toEqual(expected);
  else {
    expect(exitCode).toBe(141);
    expect(present, `outputs left by a stopped run: ${files.join(', ')}`).toEqual([]);
  }
}

describe('a closed stdout ends focal quietly', () => {
  it('focal schema | head -1: the first line, then exit 141 with nothing on stderr', () => {
    // The schema (~100 kB) is more than a pipe holds, so the write meets the closed pipe.
    const r = pipeIntoHead(['schema']);
    expect(r.stdout).toBe('{\n');
    expect(r.stderr).toBe('');
    expect(r.focalExit).toBe(141);
  });

  it('focal run --json | head -1: stops (exit 141), no trace on stderr, no half-written outputs', () => {
    const out = join(tempDir(), 'out');
    const r = pipeIntoHead(['run', 'pipelines/denoise-project.json', '--out', out, '--json']);
    expect(JSON.parse(r.stdout)).toEqual(expect.objectContaining({ event: expect.any(String) }));
    expectNoTrace(r.stderr);
    expectStoppedOrFinished(out, r.focalExit);
  });

  it('focal run --json whose reader closes its end after the first line', async () => {
    const out = join(tempDir(), 'out');
    const r = await runAndCloseStdoutAfterFirstLine(['run', 'pipelines/denoise-project.json', '--out', out, '--json']);
    expect(JSON.parse(r.firstLine)).toEqual(expect.objectContaining({ event: expect.any(String) }));
    expect(r.signal).toBeNull();
    expectNoTrace(r.stderr);
    expectStoppedOrFinished(out, r.code);
  });
});

describe('a missing pipeline file is a usage error (exit 2)', () => {
  it('focal run names the file and creates no output folder', () => {
    const out = join(tempDir(), 'out');
    const r = focal(['run', 'does-not-exist.json', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^focal: error: .*does-not-exist\.json: no such file$/m);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(out)).toBe(false);
  });

  it('focal run --json reports it as a JSON error event too', () => {
    const r = focal(['run', 'does-not-exist.json', '--out', join(tempDir(), 'out'), '--json']);
    expect(r.code).toBe(2);
    const last = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(last).toMatchObject({ event: 'error', code: 'E_USAGE', details: { file: 'does-not-exist.json' } });
  });

  it('focal validate names the file; a folder given as the pipeline is a usage error as well', () => {
    const r = focal(['validate', 'does-not-exist.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('does-not-exist.json');
    const dir = tempDir();
    const folder = focal(['validate', dir]);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toContain(`${dir}: it is a folder`);
  });
});
