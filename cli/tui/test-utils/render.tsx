import { EventEmitter } from 'node:events';
import { render as inkRender } from 'ink';
import { render } from 'ink-testing-library';
import type { ReactElement } from 'react';
import { catalogFromPlugins, loadPipelineFile } from '../../../core/index.js';
import { builtinPlugins } from '../../../plugins/index.js';
import { createTuiServices, type TuiServices } from '../services.js';

export const KEY = { up: '\u001B[A', down: '\u001B[B', enter: '\r', esc: '\u001B', backspace: '\u007F' } as const;

/** Services over the built-in plugins, with `cwd` as the working folder (bundled pipelines from the package). */
export function testServices(cwd: string): TuiServices {
  const catalog = catalogFromPlugins(builtinPlugins);
  return createTuiServices({ catalog, loadPipeline: (f) => loadPipelineFile(f, catalog), cwd, threads: 1 });
}

export function strip(s: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  return (s ?? '').replace(/\u001B\[[0-9;]*m/g, '');
}

export interface TuiHarness {
  stdin: { write(data: string): void };
  unmount(): void;
  /** The last frame without ANSI colour codes. */
  frame(): string;
  press(...keys: string[]): Promise<void>;
  type(text: string): Promise<void>;
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<string>;
}

/** A terminal of `columns` × `rows` for Ink: records each frame, and `resize` changes its size and emits 'resize' as a TTY does on SIGWINCH. */
class SizedStdout extends EventEmitter {
  isTTY = true;
  frames: string[] = [];
  constructor(
    public columns: number,
    public rows: number,
  ) {
    super();
  }
  write = (frame: string) => {
    this.frames.push(frame);
    return true;
  };
  resize(columns: number, rows: number) {
    this.columns = columns;
    this.rows = rows;
    this.emit('resize');
  }
}

class FakeStdin extends EventEmitter {
  isTTY = true;
  private data: string | null = null;
  write = (data: string) => {
    this.data = data;
    this.emit('readable');
    this.emit('data', data);
  };
  read = () => {
    const d = this.data;
    this.data = null;
    return d;
  };
  setEncoding() {}
  setRawMode() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
}

/**
 * Renders, and gives helpers to type keys (one at a time, letting React settle) and wait for text.
 * With `size`, the output is a terminal of that size (ink-testing-library's has 100 columns and
 * no rows, which the UI takes as 80×24) that `resize` can change.
 */
export function renderTui(el: ReactElement): TuiHarness;
export function renderTui(el: ReactElement, size: { columns: number; rows: number }): TuiHarness & { resize(columns: number, rows: number): Promise<void> };
export function renderTui(el: ReactElement, size?: { columns: number; rows: number }): TuiHarness & { resize?(columns: number, rows: number): Promise<void> } {
  let r: { stdin: { write(data: string): void }; unmount(): void; lastFrame(): string | undefined };
  let resize: ((columns: number, rows: number) => Promise<void>) | undefined;
  if (size) {
    const stdout = new SizedStdout(size.columns, size.rows);
    const stdin = new FakeStdin();
    const instance = inkRender(el, {
      stdout: stdout as unknown as NodeJS.WriteStream,
      stderr: new SizedStdout(size.columns, size.rows) as unknown as NodeJS.WriteStream,
      stdin: stdin as unknown as NodeJS.ReadStream,
      debug: true,
      exitOnCtrlC: false,
      patchConsole: false,
    });
    r = { stdin, unmount: () => instance.unmount(), lastFrame: () => stdout.frames[stdout.frames.length - 1] };
    resize = async (columns, rows) => {
      stdout.resize(columns, rows);
      await new Promise((res) => setTimeout(res, 50));
    };
  } else r = render(el);
  const frame = () => strip(r.lastFrame());
  const settle = () => new Promise((res) => setTimeout(res, 50));
  return {
    stdin: r.stdin,
    unmount: r.unmount,
    frame,
    resize,
    async press(...keys: string[]) {
      for (const k of keys) {
        r.stdin.write(k);
        await settle();
      }
    },
    async type(text: string) {
      for (const ch of text) {
        r.stdin.write(ch);
        await settle();
      }
    },
    async waitFor(text: string | RegExp, timeoutMs = 10_000): Promise<string> {
      const t0 = Date.now();
      for (;;) {
        const f = frame();
        if (typeof text === 'string' ? f.includes(text) : text.test(f)) return f;
        if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${String(text)}; screen:\n${f}`);
        await new Promise((res) => setTimeout(res, 25));
      }
    },
  };
}
