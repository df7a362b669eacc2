/**
 * Simulated TSVA datasets on disk: one float32 file (y1, y2, x of every patch, interleaved HWC)
 * and a JSON index (per patch ΔD, Y1's offset, family, tile), so training, evaluation and
 * benchmarks reuse the same patches. Deterministic from the recipe, which the index records.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { FocalError, writeFileAtomic } from '../../core/index.js';
import { simulateDataset, type DatasetOptions, type TsvaPatch } from './simulate.js';

export interface DatasetFile {
  recipe: Omit<DatasetOptions, 'onTile'>;
  patchPx: number;
  patches: { deltaDUm: number; y1OffsetUm: number; family: string; tile: number; focusUm?: number }[];
}

export async function saveDataset(base: string, recipe: Omit<DatasetOptions, 'onTile'>, patches: TsvaPatch[]): Promise<void> {
  const P = recipe.patchPx;
  const per = P * P * 3;
  const blob = new Float32Array(patches.length * 3 * per);
  patches.forEach((p, i) => {
    blob.set(p.y1, (3 * i) * per);
    blob.set(p.y2, (3 * i + 1) * per);
    blob.set(p.x, (3 * i + 2) * per);
  });
  await writeFileAtomic(`${base}.bin`, new Uint8Array(blob.buffer), { mkdir: true });
  const index: DatasetFile = { recipe, patchPx: P, patches: patches.map(({ deltaDUm, y1OffsetUm, family, tile, focusUm }) => ({ deltaDUm, y1OffsetUm, family, tile, ...(focusUm !== undefined ? { focusUm } : {}) })) };
  await writeFileAtomic(`${base}.json`, JSON.stringify(index), { mkdir: true });
}

export async function loadDataset(base: string): Promise<{ index: DatasetFile; patches: TsvaPatch[] }> {
  let index: DatasetFile;
  try {
    index = JSON.parse(await readFile(`${base}.json`, 'utf8')) as DatasetFile;
  } catch (e) {
    throw new FocalError('E_ARGUMENT', `dataset: cannot read ${base}.json (${(e as Error).message})`, { field: 'dataset', file: `${base}.json` });
  }
  const buf = await readFile(`${base}.bin`);
  const blob = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const per = index.patchPx * index.patchPx * 3;
  if (blob.length !== index.patches.length * 3 * per) throw new FocalError('E_ARGUMENT', `dataset: ${base}.bin has ${blob.length} values, its index says ${index.patches.length} patches of ${index.patchPx}² px`, { field: 'dataset', file: `${base}.bin` });
  const patches = index.patches.map((m, i) => ({
    ...m,
    y1: blob.slice(3 * i * per, (3 * i + 1) * per),
    y2: blob.slice((3 * i + 1) * per, (3 * i + 2) * per),
    x: blob.slice((3 * i + 2) * per, (3 * i + 3) * per),
  }));
  return { index, patches };
}

/** Loads `base` if present, else simulates it from the recipe and saves it. */
export async function datasetFromRecipe(base: string, recipe: Omit<DatasetOptions, 'onTile'>, onTile?: DatasetOptions['onTile']): Promise<TsvaPatch[]> {
  if (existsSync(`${base}.json`) && existsSync(`${base}.bin`)) {
    const { index, patches } = await loadDataset(base);
    if (JSON.stringify(index.recipe) === JSON.stringify(recipe)) return patches;
  }
  const patches = simulateDataset({ ...recipe, onTile });
  await saveDataset(base, recipe, patches);
  return patches;
}
