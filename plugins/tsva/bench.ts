/**
 * TSVA inference benchmark (run by bench/tsva.ts, which writes docs/benchmarks.md): the shipped
 * demo model (or the U-Net baseline, its reference) on a scanner tile of the paper's size (1224 × 1024 px, RGB), both shots tiled
 * identically (the package's tile and halo), with onnxruntime (1 and 2 threads) and tfjs;
 * network tiles per second, seconds per scanner tile and per cm² of slide at 0.325 µm px; and the
 * consistency guard's cost per scanner tile at its worst (all three colour channels checked);
 * shots of another pixel size refocused on the model's grid beside the plain run; and the
 * two-shot focus-error estimate per scanner tile.
 */
import { cpus, loadavg } from 'node:os';
import { fitSafety } from '../../core/imaging.js';
import { createInferenceEngine } from '../../core/ml.js';
import type { TsvaArch } from './model.js';
import { loadTsvaPackage } from './package.js';
import { refocusPair } from './refocus.js';
import { TwoShotDefocus } from './defocus-estimate.js';

export const SCANNER_TILE = { width: 1224, height: 1024 };

export interface TsvaBenchRow {
  engine: string;
  secondsPerTile: number;
  networkTilesPerSecond: number;
  secondsPerCm2: number;
}

/** One tiling of a scanner tile: its time (onnxruntime, 2 threads) and how far it is from one pass over the whole tile. */
export interface TsvaTilingRow {
  tilePx: number;
  haloPx: number;
  secondsPerTile: number;
  /** max |tiled − one whole-tile pass| at least {@link TILING_BORDER_PX} from the tile's edge, on the 0–255 scale. */
  maxDiffOf255: number;
}

/** Pixels left out at the scanner tile's edge when a tiling is compared with one whole-tile pass (the edge is padded differently). */
export const TILING_BORDER_PX = 128;

/** The tiling that 0.6.0 and earlier packages first recorded, benched beside the package's own. */
export const PREVIOUS_TILING = { tilePx: 128, haloPx: 32 };

export async function benchTsva(modelDir: string, reps = 2): Promise<{ resampled: { pixelSizeUm: number; secondsPerTile: number; plainSecondsPerTile: number }[]; focusFirstSeconds: number; focusSecondsPerTile: number; rows: TsvaBenchRow[]; tilings: TsvaTilingRow[]; cancelSeconds: number[]; arch: TsvaArch; version: string; networkTiles: number; tilePx: number; haloPx: number; pixelSizeUm: number; machine: string; guardSecondsPerTile: number }> {
  const { pkg, meta } = await loadTsvaPackage(modelDir);
  const m = pkg.manifest;
  const { width: w, height: h } = SCANNER_TILE;
  const shot = (seed: number) => {
    const a = new Float32Array(w * h * 3);
    let s = seed;
    for (let i = 0; i < a.length; i++) {
      s = (s * 1103515245 + 12345) % 2147483648;
      a[i] = 0.5 + 0.4 * Math.sin(i / 97) * (s / 2147483648);
    }
    return { hwc: a, width: w, height: h };
  };
  const a = shot(1);
  const b = shot(2);
  const inner = m.tilePx - 2 * m.haloPx;
  const networkTiles = Math.ceil(w / inner) * Math.ceil(h / inner);
  const tilesPerCm2 = (1e4 / m.pixelSizeUm) ** 2 / (w * h);
  const rows: TsvaBenchRow[] = [];
  const configs: [string, Parameters<typeof createInferenceEngine>[1]][] = [['onnxruntime, 2 threads', { engine: 'onnxruntime', threads: 2 }], ['onnxruntime, 1 thread', { engine: 'onnxruntime', threads: 1 }], ['tfjs (wasm here)', { engine: 'tfjs' }]];
  let counted = networkTiles;
  let output: Float32Array | undefined;
  for (const [name, opts] of configs) {
    const engine = await createInferenceEngine(pkg, opts);
    let calls = 0;
    const counting = { ...engine, run: (x: Float32Array, s: [number, number, number, number]) => ((calls += s[0]), engine.run(x, s)) };
    await refocusPair(a, b, counting, { tilePx: m.tilePx, haloPx: m.haloPx, multipleOf: m.multipleOf, arch: meta.arch, order: 'brenner' }); // warm-up
    counted = calls;
    const times: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      output = (await refocusPair(a, b, engine, { tilePx: m.tilePx, haloPx: m.haloPx, multipleOf: m.multipleOf, arch: meta.arch, order: 'brenner' })).hwc;
      times.push((performance.now() - t0) / 1000);
    }
    await engine.dispose();
    const sec = times.sort((x, y) => x - y)[Math.floor(times.length / 2)];
    rows.push({ engine: name, secondsPerTile: sec, networkTilesPerSecond: counted / sec, secondsPerCm2: sec * tilesPerCm2 });
  }
  // the package's tiling beside the previous one, both against one pass over the whole scanner tile
  const tilings: TsvaTilingRow[] = [];
  const cancelSeconds: number[] = [];
  {
    const engine = await createInferenceEngine(pkg, { engine: 'onnxruntime', threads: 2 });
    const run = (tilePx: number, haloPx: number) => refocusPair(a, b, engine, { tilePx, haloPx, multipleOf: m.multipleOf, arch: meta.arch, order: 'brenner' });
    const side = Math.ceil(Math.max(w, h) / m.multipleOf) * m.multipleOf;
    const whole = (await run(side, 0)).hwc;
    for (const t of [{ tilePx: m.tilePx, haloPx: m.haloPx }, PREVIOUS_TILING]) {
      let out = (await run(t.tilePx, t.haloPx)).hwc; // warm-up
      const times: number[] = [];
      for (let r = 0; r < reps; r++) {
        const t0 = performance.now();
        out = (await run(t.tilePx, t.haloPx)).hwc;
        times.push((performance.now() - t0) / 1000);
      }
      let max = 0;
      for (let y = TILING_BORDER_PX; y < h - TILING_BORDER_PX; y++) {
        for (let i = (y * w + TILING_BORDER_PX) * 3; i < (y * w + w - TILING_BORDER_PX) * 3; i++) max = Math.max(max, Math.abs(out[i] - whole[i]));
      }
      tilings.push({ ...t, secondsPerTile: times.sort((x, y) => x - y)[Math.floor(times.length / 2)], maxDiffOf255: 255 * max });
    }
    // Ctrl-C: a scanner tile cancelled 0.3 s in; seconds from the abort to the rejection (E_CANCELLED)
    for (let r = 0; r < reps + 1; r++) {
      const controller = new AbortController();
      let abortedAt = 0;
      setTimeout(() => { abortedAt = performance.now(); controller.abort(); }, 300);
      const stopped = await refocusPair(a, b, engine, { tilePx: m.tilePx, haloPx: m.haloPx, multipleOf: m.multipleOf, arch: meta.arch, order: 'brenner', signal: controller.signal }).then(() => 'finished', (e: { code?: string }) => e.code);
      if (stopped !== 'E_CANCELLED') throw new Error(`cancelled refocus ended with ${stopped}, not E_CANCELLED`);
      cancelSeconds.push((performance.now() - abortedAt) / 1000);
    }
    await engine.dispose();
  }
  // shots of another pixel size (resample 'auto'): refocused on the model's grid, the correction
  // resampled back; and the two-shot focus error (no network), its first call making its table
  const resampled: { pixelSizeUm: number; secondsPerTile: number; plainSecondsPerTile: number }[] = [];
  {
    const engine = await createInferenceEngine(pkg, { engine: 'onnxruntime', threads: 2 });
    const o = { tilePx: m.tilePx, haloPx: m.haloPx, multipleOf: m.multipleOf, arch: meta.arch, order: 'brenner' as const };
    const median = async (scale: number) => {
      const times: number[] = [];
      for (let r = 0; r < reps; r++) {
        const t0 = performance.now();
        await refocusPair(a, b, engine, { ...o, scale });
        times.push((performance.now() - t0) / 1000);
      }
      return times.sort((x, y) => x - y)[Math.floor(times.length / 2)];
    };
    for (const px of [0.25, 0.5]) resampled.push({ pixelSizeUm: px, secondsPerTile: await median(px / meta.optics.pixelSizeUm), plainSecondsPerTile: await median(1) });
    await engine.dispose();
  }
  const focus = new TwoShotDefocus({ optics: meta.optics, shotOffsetUm: meta.protocol.shotOffsetUm });
  let t0 = performance.now();
  focus.estimate(a.hwc, b.hwc, w, h);
  const focusFirstSeconds = (performance.now() - t0) / 1000;
  const focusTimes: number[] = [];
  for (let r = 0; r < reps; r++) {
    t0 = performance.now();
    focus.estimate(b.hwc, a.hwc, w, h);
    focusTimes.push((performance.now() - t0) / 1000);
  }
  const focusSecondsPerTile = focusTimes.sort((x, y) => x - y)[Math.floor(focusTimes.length / 2)];
  // the guard at its worst: every colour channel's fit (guardOutput stops early once a weight is 0)
  const channel = (hwc: Float32Array, c: number) => Float32Array.from({ length: w * h }, (_, i) => hwc[i * 3 + c]);
  const guardTimes: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let c = 0; c < 3; c++) fitSafety(channel(a.hwc, c), channel(output!, c), w, h);
    guardTimes.push((performance.now() - t0) / 1000);
  }
  const guardSecondsPerTile = guardTimes.sort((x, y) => x - y)[Math.floor(guardTimes.length / 2)];
  return { guardSecondsPerTile, resampled, focusFirstSeconds, focusSecondsPerTile, rows, tilings, cancelSeconds, arch: meta.arch, version: m.version, networkTiles: counted, tilePx: m.tilePx, haloPx: m.haloPx, pixelSizeUm: m.pixelSizeUm, machine: `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, load ${loadavg().map((l) => l.toFixed(1)).join(' / ')}` };
}
