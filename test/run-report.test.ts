/**
 * PipelineRunner with `report: true` writes report.html beside the outputs (committed with them,
 * listed in the summary) for a bundled pipeline, and nothing of it when not asked.
 */
import 'reflect-metadata';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createContainer, MemoryLogger, PipelineRunner, PluginRegistry, readTableFile } from '../core/index.js';
import { builtinPlugins } from '../plugins/index.js';
import { ROOT, tempDir } from './helpers.js';

const registry = new PluginRegistry();
for (const plugin of builtinPlugins) registry.registerPlugin(plugin, 'builtin');
const runner = createContainer({ catalog: registry, logger: new MemoryLogger() }).resolve(PipelineRunner);
const outRoot = tempDir('focal-run-report-');
afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

describe('run report from PipelineRunner', () => {
  it('count-nuclei with report: true writes report.html with the count, previews, tables and run.json link', async () => {
    const outDir = join(outRoot, 'count');
    const summary = await runner.run({ pipelineFile: join(ROOT, 'pipelines', 'count-nuclei.json'), outDir, report: true });
    expect(summary.reportFile).toBe(join(outDir, 'report.html'));
    const html = readFileSync(summary.reportFile!, 'utf8');
    const count = (await readTableFile(join(outDir, 'summary.csv'))).rows[0].count;
    expect(html).toContain(`<div class="card primary"><div class="value">${count}</div><div class="label">summary · count</div>`);
    // labels + overlay outputs, then the input stack: composite and its 2 channels
    const captions = [...html.matchAll(/<img src="data:image\/png;base64,[^"]+" width="\d+" height="\d+" alt="([^"]*)">/g)].map((m) => m[1]);
    expect(captions.slice(0, 2)).toEqual(['output labels', 'output overlay']);
    expect(captions.slice(2)).toHaveLength(3);
    expect(captions[2]).toMatch(/^input stack · composite$/);
    for (const c of captions.slice(2)) expect(c).toMatch(/^input stack · /);
    expect(html).toContain('id="table-objects"');
    expect(html).toContain('<td>count</td><td>cellcount.count</td>');
    expect(html).toContain('<a href="run.json">run.json</a>');
    expect(readdirSync(outDir).filter((f) => f.startsWith('.'))).toEqual([]); // no staging or temporary files left
  });

  it('writes no report unless asked', async () => {
    const outDir = join(outRoot, 'plain');
    const summary = await runner.run({ pipelineFile: join(ROOT, 'pipelines', 'count-nuclei.json'), outDir });
    expect(summary.reportFile).toBeUndefined();
    expect(existsSync(join(outDir, 'report.html'))).toBe(false);
    expect(existsSync(join(outDir, 'run.json'))).toBe(true);
  });
});
