/**
 * PipelineRunner with `report: true` writes report.html beside the outputs (committed with them,
 * listed in the summary) for a bundled pipeline, and nothing of it when not asked; the report
 * lists every node and output; `focal report <out>` (rebuildRunReport) rebuilds it from the folder.
 */
import 'reflect-metadata';
import { existsSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createContainer, DefaultIoService, MemoryLogger, PipelineRunner, PluginRegistry, readRunRecord, readTableFile, rebuildRunReport } from '../core/index.js';
import { builtinPlugins } from '../plugins/index.js';
import { focal, ROOT, tempDir } from './helpers.js';
import { expectListsEverything } from './report-helpers.js';

const registry = new PluginRegistry();
for (const plugin of builtinPlugins) registry.registerPlugin(plugin, 'builtin');
const runner = createContainer({ catalog: registry, logger: new MemoryLogger() }).resolve(PipelineRunner);
const outRoot = tempDir('focal-run-report-');
afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

describe('run report from PipelineRunner', () => {
  const outDir = join(outRoot, 'count');
  it('count-nuclei with report: true writes report.html with the count, graph, previews, tables and run.json link', async () => {
    const summary = await runner.run({ pipelineFile: join(ROOT, 'pipelines', 'count-nuclei.json'), outDir, report: true });
    expect(summary.reportFile).toBe(join(outDir, 'report.html'));
    const html = readFileSync(summary.reportFile!, 'utf8');
    const count = (await readTableFile(join(outDir, 'summary.csv'))).rows[0].count;
    expect(html).toContain(`<div class="card primary"><div class="value">${count}</div><div class="label">summary · count</div>`);
    // each image output beside what its op read, then the input stack: composite and its 2 channels
    const captions = [...html.matchAll(/<img src="data:image\/png;base64,[^"]+" width="\d+" height="\d+" alt="([^"]*)">/g)].map((m) => m[1]);
    expect(captions.filter((c) => c.startsWith('output '))).toEqual(['output labels', 'output overlay']);
    expect(captions.filter((c) => c.startsWith('before: '))).toHaveLength(2);
    const inputs = captions.filter((c) => c.startsWith('input stack'));
    expect(inputs).toHaveLength(3);
    expect(inputs[0]).toBe('input stack · composite');
    expect(html).toContain('id="table-objects"');
    expect(html).toContain('<a href="run.json">run.json</a>');
    const record = await readRunRecord(outDir);
    expectListsEverything(html, record);
    // run.json has what the report shows: node inputs, output refs, the warnings
    expect(record.nodes.count.in).toBeDefined();
    expect(record.outputs.every((o) => typeof o.ref === 'string')).toBe(true);
    expect(Array.isArray(record.warnings)).toBe(true);
    expect(readdirSync(outDir).filter((f) => f.startsWith('.'))).toEqual([]); // no staging or temporary files left
  });

  it('rebuildRunReport (focal report) rebuilds it from run.json and the files, and says what it could not read', async () => {
    const first = readFileSync(join(outDir, 'report.html'), 'utf8');
    unlinkSync(join(outDir, 'report.html'));
    const { file, missing } = await rebuildRunReport(outDir, new DefaultIoService());
    expect(missing).toEqual([]);
    const html = readFileSync(file, 'utf8');
    expect(html).toContain('Rebuilt by focal report from run.json');
    const figs = (h: string) => [...h.matchAll(/alt="([^"]*)"/g)].map((m) => m[1]);
    expect(figs(html)).toEqual(figs(first));
    expectListsEverything(html, await readRunRecord(outDir));
    // an output file gone: named, the rest rebuilt
    unlinkSync(join(outDir, 'labels.tif'));
    const again = await rebuildRunReport(outDir, new DefaultIoService());
    expect(again.missing.join()).toMatch(/output 'labels'/);
    expect(readFileSync(again.file, 'utf8')).toContain("Not shown: output &#39;labels&#39;");
  });

  it('focal report refuses a folder without run.json, naming the file', () => {
    const r = focal(['report', outRoot]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(join(outRoot, 'run.json'));
  });

  it('a later run without a report removes the earlier run\'s report (it would describe other outputs)', async () => {
    const dir = join(outRoot, 'again');
    await runner.run({ pipelineFile: join(ROOT, 'pipelines', 'count-nuclei.json'), outDir: dir, report: true });
    expect((await readRunRecord(dir)).report).toBe('report.html');
    await runner.run({ pipelineFile: join(ROOT, 'pipelines', 'count-nuclei.json'), outDir: dir });
    expect(existsSync(join(dir, 'report.html'))).toBe(false);
    expect((await readRunRecord(dir)).report).toBeUndefined();
  });

  it('writes no report unless asked', async () => {
    const plain = join(outRoot, 'plain');
    const summary = await runner.run({ pipelineFile: join(ROOT, 'pipelines', 'count-nuclei.json'), outDir: plain });
    expect(summary.reportFile).toBeUndefined();
    expect(existsSync(join(plain, 'report.html'))).toBe(false);
    expect(existsSync(join(plain, 'run.json'))).toBe(true);
  });
});
