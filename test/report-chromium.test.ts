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

describe('run reports in headless Chromium', () => {
  it('there are bundled pipelines', () => expect(pipelines.length).toBeGreaterThanOrEqual(15));

  for (const name of pipelines) {
    it.skipIf(skip)(`${name}: the report opens with no console message, draws its plots and lists every node and output`, async () => {
      if (missing) throw new Error(`CI must provide Chromium: ${missing}`);
      const outDir = join(outRoot, name.replace(/\.json$/, ''));
      const summary = await runner.run({ pipelineFile: join(ROOT, 'pipelines', name), outDir, report: true });
      const html = readFileSync(summary.reportFile!, 'utf8');
      expectListsEverything(html, await readRunRecord(outDir));
      const page = await openInChromium(summary.reportFile!, join(outRoot, '.chromium'));
      expect(page.console, `console of ${summary.reportFile}`).toEqual([]);
      const declared = [...html.matchAll(/<div class="plot" id="/g)].length;
      expect([...page.dom.matchAll(/class="uplot/g)].length, 'uPlot charts drawn').toBe(declared);
    }, 120_000);
  }
});
