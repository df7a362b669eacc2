import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { catalogFromPlugins, loadPipelineFile, readTiff, runPipeline, testContext, type Stack, type Table } from '../../core/index.js';
import { stackPlugin } from '../index.js';
import { makeHeTissue } from '../../scripts/make-sample-he.js';
import { cellcountPlugin } from './index.js';

const catalog = catalogFromPlugins([stackPlugin, cellcountPlugin]);
const services = { resolve(): never { throw new Error('no services') } };

async function runFile(name: string) {
  const file = fileURLToPath(new URL(`../../pipelines/${name}.json`, import.meta.url));
  const { pipeline, inputDefaults } = await loadPipelineFile(file, catalog);
  const inputs: Record<string, Stack> = {};
  for (const [k, path] of Object.entries(inputDefaults)) inputs[k] = await readTiff(path as string);
  const result = await runPipeline(pipeline, { catalog, inputs, services, logger: testContext().log });
  return Object.fromEntries(Object.entries(result.outputs).map(([k, o]) => [k, o.value]));
}

describe('cellcount pipelines on the bundled samples', () => {
  it('count-nuclei: MIP of the DAPI channel of samples/cells-zstack.tif → 28 nuclei of 12–34 µm²', async () => {
    const out = await runFile('count-nuclei');
    const summary = (out.summary as Table).rows[0];
    // scripts/make-samples.ts places 28 cells; ImageJ's Analyze Particles finds 28 on this projection too (fixtures/particles, case "nuclei")
    expect(summary.count).toBe(28);
    expect(summary.meanAreaUm2 as number).toBeGreaterThan(15);
    expect(summary.meanAreaUm2 as number).toBeLessThan(30);
    const objects = (out.objects as Table).rows;
    for (const o of objects) {
      expect(o.areaUm2 as number).toBeGreaterThanOrEqual(5);
      expect(o.areaUm2 as number).toBeLessThanOrEqual(200);
      expect(o.circularity as number).toBeGreaterThan(0.8);
    }
    expect((out.overlay as Stack).rgb).toBe(true);
    expect((out.labels as Stack).dtype).toBe('uint16');
  });

  it('count-he-nuclei: H&E sample → haematoxylin → nuclei counted within 10 % of the generator\'s ground truth', async () => {
    const out = await runFile('count-he-nuclei');
    const summary = (out.summary as Table).rows[0];
    // ground truth: the nuclei scripts/make-sample-he.ts placed that lie wholly inside the image (129 of 138)
    const { nuclei, stack } = makeHeTissue();
    const inside = nuclei.filter((n) => {
      const r = Math.max(n.a, n.b);
      return n.x - r > 0 && n.y - r > 0 && n.x + r < stack.width && n.y + r < stack.height;
    }).length;
    expect(Math.abs((summary.count as number) - inside) / inside).toBeLessThan(0.1); // measured 124 vs 129
    expect(summary.areaFraction as number).toBeGreaterThan(0.01);
    expect(summary.areaFraction as number).toBeLessThan(0.6);
    expect((out.haematoxylin as Stack).dtype).toBe('uint8');
    expect((out.overlay as Stack).rgb).toBe(true);
  });
});
