/**
 * The datasets of TSVA's demo model and evaluation (deterministic recipes): Dataset 1 from
 * `he-gland` (training, validation and test tiles from different seeds), Dataset 2 from
 * `he-skin` (never trained on). Patches of 64 px (the paper: 224 px).
 */
import type { DatasetOptions } from './simulate.js';

type Recipe = Omit<DatasetOptions, 'onTile'>;

export const PATCH_PX = 64;

/** Training + validation tiles of Dataset 1; the last VAL_TILES tiles are the validation split (≈ 15 %). */
export const TRAIN_RECIPE: Recipe = { family: 'he-gland', tiles: 40, patchPx: PATCH_PX, patchesPerSide: 3, seed: 101 };
export const VAL_TILES = 6;
/** Validation tiles of a training set of `tiles` tiles: ≈ 15 % (40 → 6), at least 1, leaving at least 1 for training. */
export function valTilesOf(tiles: number): number {
  return Math.min(tiles - 1, Math.max(1, Math.round(0.15 * tiles)));
}

/** Test sets: the paper's Gaussian ΔD protocol, and a uniform sweep −3…+3 µm (every patch at every ΔD). */
export const SWEEP_UM = [-3, -2.5, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3];
export const TEST_RECIPES: Record<string, Recipe> = {
  'd1-gauss': { family: 'he-gland', tiles: 10, patchPx: PATCH_PX, patchesPerSide: 3, seed: 202 },
  'd2-gauss': { family: 'he-skin', tiles: 10, patchPx: PATCH_PX, patchesPerSide: 3, seed: 303 },
  'd1-sweep': { family: 'he-gland', tiles: 4, patchPx: PATCH_PX, patchesPerSide: 2, seed: 404, deltaD: SWEEP_UM },
  'd2-sweep': { family: 'he-skin', tiles: 4, patchPx: PATCH_PX, patchesPerSide: 2, seed: 505, deltaD: SWEEP_UM },
};
