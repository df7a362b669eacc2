import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { App } from './App.js';
import { KEY, renderTui, testServices, type TuiHarness } from './test-utils/render.js';

const dir = mkdtempSync(join(tmpdir(), 'focal-tui-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function openDemo(t: TuiHarness, services: ReturnType<typeof testServices>) {
  const list = await services.listPipelines();
  const at = list.findIndex((e) => e.name === 'denoise-project');
  expect(at).toBeGreaterThanOrEqual(0);
  await t.waitFor('denoise-project');
  await t.press(...Array<string>(at).fill(KEY.down), KEY.enter);
  return t.waitFor('pipeline denoise-project');
}

describe('focal tui', () => {
  it('navigates: pipeline list → graph → params → back, and help', async () => {
    const services = testServices(dir);
    const t = renderTui(<App services={services} />);
    const list = await t.waitFor('bundled');
    expect(list).toContain('Focal · pipelines');
    expect(list).toContain('q quit');
    const graph = await openDemo(t, services);
    expect(graph).toContain('input stack (stack) ←');
    expect(graph).toMatch(/denoise\s+filter\.gaussian\s+stack ← stack/);
    expect(graph).toMatch(/mip\s+stack\.project\s+stack ← denoise\.stack/);
    expect(graph).toContain('outputs: mip ← mip.stack, nuclei ← nuclei8bit.stack');
    // the selected node's params, defaults resolved
    expect(graph).toContain('sigmaUm = 0.4');
    await t.press(KEY.down);
    expect(t.frame()).toContain('axis = z');
    await t.press(KEY.enter);
    expect(await t.waitFor('params mip (stack.project)')).toContain('method');
    await t.press(KEY.esc);
    await t.waitFor('pipeline denoise-project');
    await t.press('?');
    expect(await t.waitFor('Focal · keys')).toContain('backspace up');
    await t.press('x');
    await t.waitFor('pipeline denoise-project');
    await t.press(KEY.esc);
    await t.waitFor('Focal · pipelines');
    // every line fits 80 columns, and the screen 24 rows
    const lines = t.frame().split('\n');
    expect(lines.length).toBeLessThanOrEqual(24);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    t.unmount();
  });

  it('shows zod\'s message under a bad parameter and clears it for a good one', async () => {
    const services = testServices(dir);
    const out = join(dir, 'edited-out');
    const t = renderTui(<App services={services} outDir={out} />);
    await openDemo(t, services);
    await t.press(KEY.enter); // the first node: denoise (filter.gaussian)
    await t.waitFor('params denoise (filter.gaussian)');
    await t.press(KEY.down, KEY.down); // sigmaPx, sigmaUm, truncate
    expect(t.frame()).toContain('› truncate         = 4');
    await t.press(KEY.enter, KEY.backspace);
    await t.type('-2');
    await t.press(KEY.enter);
    const bad = await t.waitFor('✗');
    expect(bad).toContain('truncate         = -2');
    const expected = services.validateParams('filter.gaussian', { sigmaUm: 0.4, truncate: -2 }).truncate;
    expect(expected).toMatch(/too small/i);
    expect(bad).toContain(`✗ ${expected}`);
    // the graph marks the node, and run is refused
    await t.press(KEY.esc);
    await t.waitFor('pipeline denoise-project');
    expect(t.frame()).toMatch(/denoise .*✗/);
    await t.press('r');
    expect(await t.waitFor('fix the params of denoise first')).toContain('pipeline denoise-project');
    await t.press(KEY.enter);
    await t.waitFor('params denoise');
    await t.press(KEY.down, KEY.down, KEY.enter, KEY.backspace, KEY.backspace);
    await t.type('3');
    await t.press(KEY.enter);
    const good = await t.waitFor('truncate         = 3');
    expect(good).not.toContain('✗');
    await t.press(KEY.esc);
    expect(await t.waitFor('pipeline denoise-project')).not.toContain('fix the params');
    // the edited pipeline is what runs: saved beside the outputs, and run.json points to it
    await t.press('r');
    await t.waitFor('done in', 30_000);
    const edited = JSON.parse(readFileSync(join(out, 'denoise-project.edited.json'), 'utf8')) as { nodes: Record<string, { params: Record<string, unknown> }>; inputs: Record<string, { default?: string }> };
    expect(edited.nodes.denoise.params).toEqual({ sigmaUm: 0.4, truncate: 3 });
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { pipeline: { file: string }; nodes: Record<string, { params: Record<string, unknown> }>; inputs: Record<string, { file: string }> };
    expect(run.pipeline.file).toBe(join(out, 'denoise-project.edited.json'));
    expect(run.nodes.denoise.params.truncate).toBe(3);
    expect(run.inputs.stack.file).toMatch(/samples\/cells-zstack\.tif$/);
    // the saved pipeline names the file that was run as its input's default, so it runs again alone
    expect(edited.inputs.stack.default).toBeDefined();
    expect(resolve(out, edited.inputs.stack.default!)).toBe(run.inputs.stack.file);
    t.unmount();
  });

  it('runs the demo pipeline to completion and lists its outputs', async () => {
    const services = testServices(dir);
    const out = join(dir, 'demo-out');
    const t = renderTui(<App services={services} outDir={out} />);
    await openDemo(t, services);
    await t.press('r');
    await t.waitFor('Focal · run denoise-project');
    const done = await t.waitFor('done in', 30_000);
    expect(done).toContain('4/4 nodes');
    expect(done).toMatch(/nuclei8bit\s+stack\.convert\s+█{20}\s+100%/);
    expect(done).toContain('2 outputs written');
    expect(done).toContain('done nuclei8bit');
    await t.press(KEY.enter);
    const results = await t.waitFor('Focal · results denoise-project');
    expect(results).toMatch(/mip \(stack\): .*mip\.tif/);
    expect(results).toMatch(/preview: .*mip\.png/);
    expect(results).toMatch(/nuclei \(stack\): .*nuclei\.tif/);
    for (const f of ['mip.tif', 'mip.png', 'nuclei.tif', 'nuclei.png', 'run.json']) expect(existsSync(join(out, f)), f).toBe(true);
    await t.press('p');
    await t.waitFor('Focal · pipelines');
    t.unmount();
  });
  it('lays the screens out to the terminal, says when it is smaller than 80×24, and comes back as it was when it grows', async () => {
    const services = testServices(dir);
    const t = renderTui(<App services={services} />, { columns: 120, rows: 40 });
    const list = await t.waitFor('bundled');
    let lines = list.split('\n');
    expect(lines.length).toBe(39);
    expect(lines[0]).toBe('Focal · pipelines');
    expect(lines[38]).toMatch(/^↑\/↓ move  enter open  w watch  \? help  q quit/);
    await openDemo(t, services);
    lines = t.frame().split('\n');
    expect(lines.length).toBe(39);
    expect(lines[38]).toMatch(/^↑\/↓ move  enter edit\/pick/);
    await t.press(KEY.down); // mip
    expect(t.frame()).toContain('axis = z');

    await t.resize(60, 20);
    const small = await t.waitFor('This one is 60 × 20');
    expect(small).toContain('Focal needs a terminal of at least 80 × 24');
    expect(small).not.toContain('Focal · pipeline');
    lines = small.split('\n');
    expect(lines.length).toBeLessThanOrEqual(19);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(60);
    // keys wait for the screen: this down and '?' reach no one
    await t.press(KEY.down, '?');

    await t.resize(100, 30);
    const back = await t.waitFor('Focal · pipeline denoise-project');
    expect(back).not.toContain('80 × 24');
    expect(back).not.toContain('Focal · keys');
    expect(back).toContain('axis = z'); // the same screen, the same node selected
    lines = back.split('\n');
    expect(lines.length).toBe(29);
    expect(lines[28]).toMatch(/^↑\/↓ move  enter edit\/pick/);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(100);
    t.unmount();
  });
});
