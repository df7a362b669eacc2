import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { catalogFromPlugins, loadPipelineFile, readTableFile, readTiff, runPipeline, testContext, type Stack, type Table } from '../../core/index.js';
import { cellcountPlugin, tsvaPlugin } from '../index.js';

const catalog = catalogFromPlugins([tsvaPlugin, cellcountPlugin]);
const services = { resolve(): never { throw new Error('no services') } };

async function runFile(name: string): Promise<Record<string, unknown> & { inputs: Record<string, unknown>; warnings: string[] }> {
  const file = fileURLToPath(new URL(`./pipelines/${name}.json`, import.meta.url));
  const { pipeline, inputDefaults } = await loadPipelineFile(file, catalog);
  const inputs: Record<string, unknown> = {};
  for (const [k, path] of Object.entries(inputDefaults)) inputs[k] = String(path).endsWith('.csv') ? await readTableFile(path as string) : await readTiff(path as string);
  const ctx = testContext();
  const result = await runPipeline(pipeline, { catalog, inputs, services, logger: ctx.log });
  return { ...Object.fromEntries(Object.entries(result.outputs).map(([k, o]) => [k, o.value])), inputs, warnings: ctx.logs.filter((l) => l.level === 'warn').map((l) => l.message) };
}

describe('tsva pipelines on the bundled simulated slide', () => {
  it('tsva-refocus: one tile, uint8 RGB of the shots\' size', async () => {
    const out = await runFile('tsva-refocus');
    const img = out.refocused as Stack;
    expect([img.width, img.height, img.sizeC, img.dtype, img.rgb]).toEqual([128, 128, 3, 'uint8', true]);
    // the bundled shots say they are at the model's 0.325 µm pixels, so the op's pixel-size check passes them
    for (const shot of Object.values(out.inputs) as Stack[]) { expect(shot.calibration.pixelWidthUm).toBeCloseTo(0.325, 9); expect(shot.calibration.pixelHeightUm).toBeCloseTo(0.325, 9); }
    expect(img.calibration.pixelWidthUm).toBeCloseTo(0.325, 9);
    expect(out.warnings).toEqual([]);
  }, 60_000);

  it('tsva-slide-count: 6 tiles → 352×240 mosaic, per-tile table with Brenner ordering, cells counted', async () => {
    const out = await runFile('tsva-slide-count');
    const mosaic = out.mosaic as Stack;
    expect([mosaic.width, mosaic.height]).toEqual([352, 240]);
    expect(mosaic.calibration.pixelWidthUm).toBeCloseTo(0.325, 9);
    expect(out.warnings).toEqual([]);
    const tiles = (out.tiles as Table).rows;
    expect(tiles).toHaveLength(6);
    for (const t of tiles) expect(t.y1).toBe((t.brennerLow as number) >= (t.brennerHigh as number) ? 'F-s' : 'F+s');
    expect((out.summary as Table).rows[0].count as number).toBeGreaterThan(5);
  }, 120_000);
});
