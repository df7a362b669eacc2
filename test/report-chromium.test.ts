/**
 * The report of every bundled pipeline opens in headless Chromium with no console message (no
 * error, no uncaught exception), draws a uPlot chart for every plot the page declares, and lists
 * every node and output of the run. Chromium's console goes to stderr with
 * `--enable-logging=stderr --v=0` (lines `INFO:CONSOLE…`); `--dump-dom` prints the page after its
 * scripts ran.
 *
 * Needs Chromium (Debian: chromium; scripts/install-system-deps.sh). Without it the test is
 * skipped, except in CI (process.env.CI), where it fails.
 */
import 'reflect-metadata';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createContainer, MemoryLogger, PipelineRunner, PluginRegistry, readRunRecord } from '../core/index.js';
import { builtinPlugins } from '../plugins/index.js';
import { ROOT, tempDir } from './helpers.js';
import { chromiumMissing, expectListsEverything, openInChromium } from './report-helpers.js';

const missing = chromiumMissing();
const skip = missing !== undefined && !process.env.CI;
if (skip) console.warn(`report-chromium: skipped: ${missing}`);

const registry = new PluginRegistry();
for (const plugin of builtinPlugins) registry.registerPlugin(plugin, 'builtin');
const runner = createContainer({ catalog: registry, logger: new MemoryLogger() }).resolve(PipelineRunner);
const outRoot = tempDir('focal-report-chromium-');
afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

const pipelines = readdirSync(join(ROOT, 'pipelines')).filter((f) => f.endsWith('.json')).sort();

interface Opened {
  html: string;
  outDir: string;
  reportFile: string;
  page: { dom: string; console: string[] };
}

/**
 * The pipelines run one after another (each uses every core); each report opens in Chromium,
 * its own profile, while the next pipeline runs: Chromium mostly waits (2.3 s wall, 1 s CPU a
 * page), so the file takes about as long as its runs. Every test awaits its own page.
 */
const opened = new Map<string, Promise<Opened>>();
function openAll(): void {
  let previous: Promise<unknown> = Promise.resolve();
  for (const name of pipelines) {
    const ran = previous.then(async () => {
      const outDir = join(outRoot, name.replace(/\.json$/, ''));
      const summary = await runner.run({ pipelineFile: join(ROOT, 'pipelines', name), outDir, report: true });
      return { outDir, reportFile: summary.reportFile! };
    });
    previous = ran.catch(() => undefined);
    const page = ran.then(async ({ outDir, reportFile }) => ({
      outDir,
      reportFile,
      html: readFileSync(reportFile, 'utf8'),
      page: await openInChromium(reportFile, join(outRoot, `.chromium-${name}`)),
    }));
    page.catch(() => undefined); // reported by its own test
    opened.set(name, page);
  }
}

describe('run reports in headless Chromium', () => {
  it('there are bundled pipelines', () => expect(pipelines.length).toBeGreaterThanOrEqual(15));
  if (!skip) openAll();

  for (const name of pipelines) {
    it.skipIf(skip)(`${name}: the report opens with no console message, draws its plots and lists every node and output`, async () => {
      if (missing) throw new Error(`CI must provide Chromium: ${missing}`);
      const { html, outDir, reportFile, page } = await opened.get(name)!;
      expectListsEverything(html, await readRunRecord(outDir));
      expect(page.console, `console of ${reportFile}`).toEqual([]);
      const declared = [...html.matchAll(/<div class="plot" id="/g)].length;
      expect([...page.dom.matchAll(/class="uplot/g)].length, 'uPlot charts drawn').toBe(declared);
    }, 180_000);
  }
});
