import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { expect } from 'vitest';

const run = promisify(execFile);
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Why headless Chromium cannot run here, or undefined when it can. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `needs ${CHROMIUM} (Debian package chromium)`;
}


/** What a report must list: every node (table row and graph vertex) and every output (graph vertex and file row). */
export function expectListsEverything(html: string, record: { nodes: Record<string, unknown>; outputs: { name: string; files: string[] }[] }): void {
  for (const id of Object.keys(record.nodes)) {
    expect(html, `node ${id}`).toContain(`<tr id="node-${id.replace(/[^A-Za-z0-9_-]/g, '_')}"><td>${id}</td>`);
    expect(html, `graph node ${id}`).toContain(`data-vertex="node:${id}"`);
  }
  for (const o of record.outputs) {
    expect(html, `graph output ${o.name}`).toContain(`data-vertex="output:${o.name}"`);
    for (const f of o.files) expect(html, `file ${f}`).toContain(`<a href="${encodeURI(f.split('/').pop()!)}">`);
  }
}

/** Opens `file` in headless Chromium: the DOM after scripts ran, and the console lines. */
export async function openInChromium(file: string, profile: string): Promise<{ dom: string; console: string[] }> {
  const { stdout, stderr } = await run(
    CHROMIUM,
    ['--headless', '--no-sandbox', '--disable-gpu', '--enable-logging=stderr', '--v=0', `--user-data-dir=${profile}`, '--window-size=1300,2000', '--virtual-time-budget=5000', '--dump-dom', `file://${file}`],
    { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
  );
  return { dom: stdout, console: stderr.split('\n').filter((l) => /:CONSOLE[:(]/.test(l)) };
}

