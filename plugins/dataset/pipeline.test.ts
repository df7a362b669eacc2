import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  MemoryLogger, PipelineRunner, catalogFromPlugins, createContainer, loadPipelineFile, planeIndex, readTableFile, readTiff,
} from '../../core/index.js';
import { edofPlugin, stackregPlugin } from '../index.js';
import { datasetPlugin } from './index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const file = join(root, 'pipelines', 'prepare-autofocus-dataset.json');

describe('pipelines/prepare-autofocus-dataset.json', () => {
  const catalog = catalogFromPlugins([stackregPlugin, edofPlugin, datasetPlugin]);

  it('`focal run` on the sample writes the dataset folder (inputs.tif, targets.tif, pairs.csv/json, manifest.json, run.json): 4 patches of 128², in-focus planes near the middle', async () => {
    const { inputDefaults } = await loadPipelineFile(file, catalog);
    if (!existsSync(inputDefaults.stack)) throw new Error(`${inputDefaults.stack} is missing: make it with \`npm run samples\` (scripts/make-samples.ts)`);
    const stack = await readTiff(inputDefaults.stack);
    const dir = mkdtempSync(join(tmpdir(), 'focal-autofocus-'));
    try {
      const runner = createContainer({ catalog, logger: new MemoryLogger(), threads: 1 }).resolve(PipelineRunner);
      await runner.run({ pipelineFile: file, outDir: dir });
      expect(readdirSync(dir).sort()).toEqual(['fused.tif', 'heightmap.tif', 'inputs.tif', 'manifest.json', 'pairs.csv', 'pairs.json', 'run.json', 'targets.tif']);
      const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
      expect(manifest).toMatchObject({ format: 'focal-autofocus-pairs', version: 1, pairs: 44, targets: 4, patchPx: 128, zStepUm: 1, pixelSizeUm: expect.closeTo(0.325, 9), defocusRangeUm: [expect.any(Number), expect.any(Number)] });
      const inputs = await readTiff(join(dir, 'inputs.tif'));
      expect([inputs.width, inputs.height, inputs.sizeC * inputs.sizeZ * inputs.sizeT]).toEqual([128, 128, 44]);
      const csv = readFileSync(join(dir, 'pairs.csv'), 'utf8').split('\n');
      expect(csv[0]).toBe('pair,target,patch,x,y,patchPx,sourceZ,focusZ,defocusUm,ssimToFused,focusSsimToFused,channel');
      const pairs = (await readTableFile(join(dir, 'pairs.json'))).rows;
      const targets = await readTiff(join(dir, 'targets.tif'));
      expect(new Set(pairs.map((p) => p.patch)).size).toBe(4);
      expect(targets.sizeC * targets.sizeZ * targets.sizeT).toBe(4);
      expect(pairs).toHaveLength(44); // 4 patches × 11 planes (in-focus plane included)
      expect([inputs.dtype, inputs.channelNames[0]]).toEqual(['uint16', stack.channelNames[0]]);
      for (const p of pairs) {
        // cells lie at −1.5…+1.5 µm: the in-focus plane is within 2 planes of the middle (z = 5)
        expect(Math.abs((p.focusZ as number) - 5)).toBeLessThanOrEqual(2);
        expect(p.defocusUm).toBe(((p.sourceZ as number) - (p.focusZ as number)) * 1);
      }
      // inputs[pair] with defocus 0 is targets[target]; the target is a crop of the aligned in-focus
      // plane, which translation alignment leaves close to the raw plane
      const first = pairs.find((p) => p.patch === 0 && p.defocusUm === 0)!;
      expect([...inputs.planes[first.pair as number]]).toEqual([...targets.planes[first.target as number]]);
      const raw = stack.planes[planeIndex(stack, 0, first.focusZ as number, 0)];
      let diff = 0;
      let sum = 0;
      for (let y = 10; y < 118; y++) for (let x = 10; x < 118; x++) {
        diff += Math.abs(targets.planes[0][y * 128 + x] - raw[y * 256 + x]);
        sum += raw[y * 256 + x];
      }
      expect(diff / sum).toBeLessThan(0.05);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
