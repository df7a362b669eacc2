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

/** Renders, and gives helpers to type keys (one at a time, letting React settle) and wait for text. */
export function renderTui(el: ReactElement): TuiHarness {
  const r = render(el);
  const frame = () => strip(r.lastFrame());
  const settle = () => new Promise((res) => setTimeout(res, 50));
  return {
    stdin: r.stdin,
    unmount: r.unmount,
    frame,
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
