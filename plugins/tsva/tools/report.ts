/**
 * What TSVA's evaluation tools (compare, evaluate-offset, evaluate-real, scripts/evaluate-tsva)
 * share, so that every table of plugins/tsva/docs is computed and written one way: command-line
 * flags, the per-patch PSNR cap, means, paired differences with their intervals, a package's
 * training time, an output's change from Y1 split toward the target and off it, and a real
 * image read white-balanced.
 */
import { readFile } from 'node:fs/promises';
import { decode } from 'fast-png';
import { pairedDifference } from '../../../core/index.js';
import type { TsvaMeta } from '../package.js';

/**
 * Per-patch PSNR cap (dB): an RMS error of 1/1000 of the range, under 8-bit quantisation's
 * 1/(255·√12) ≈ 58.9 dB. With z-stack noise a shot on the in-focus plane *is* the target
 * (infinite PSNR); capped, a set's mean stays finite and comparable.
 */
export const PSNR_CAP_DB = 60;

/** Every value of a repeatable `--<name> <value>` in `argv` (the arguments after the script). */
export function flagValues(argv: readonly string[], name: string): string[] {
  return argv.flatMap((a, i) => (a === `--${name}` && argv[i + 1] !== undefined ? [argv[i + 1]] : []));
}

/** The first value of `--<name>`, or `fallback` when it is not given. */
export function flagValue(argv: readonly string[], name: string, fallback: string): string {
  return flagValues(argv, name)[0] ?? fallback;
}

/** `<label>=<path>` (a `--model`-style value), checked: the label is not empty. */
export function labelledPath(value: string, flag: string): { label: string; path: string } {
  const eq = value.indexOf('=');
  if (eq <= 0 || eq === value.length - 1) throw new Error(`--${flag} ${value}: expected <label>=<package folder>`);
  return { label: value.slice(0, eq), path: value.slice(eq + 1) };
}

/** Arithmetic mean; NaN for no values. */
export function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((s, v) => s + v, 0) / values.length;
}

/** A paired difference: its mean, 95 % interval (NaN where there is none) and number of pairs. */
export interface Diff { mean: number; lo: number; hi: number; n?: number }

/**
 * a − b paired, with the 95 % bootstrap interval every TSVA table uses (2000 resamples, seed 1);
 * one pair gives its difference and no interval.
 */
export function pairDiff(a: readonly number[], b: readonly number[]): Diff {
  return pairedDifference(a, b, { seed: 1 });
}

/** A number for a table: `digits` decimals, '–' where it is not finite. */
export function fmt(v: number, digits = 2): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '–';
}

/** `mean [lo, hi]` of a paired difference. */
export function withInterval(d: Diff): string {
  return `${fmt(d.mean)} [${fmt(d.lo)}, ${fmt(d.hi)}]`;
}

/**
 * Seconds of training in a package's history. Each row's `seconds` counts from the start of its
 * leg, and a resumed run starts a new leg (its clock restarts), so the total is the sum of each
 * leg's last value.
 */
export function trainingSeconds(history: TsvaMeta['history']): number {
  return history.reduce((sum, r, i) => sum + (i === history.length - 1 || history[i + 1].seconds < r.seconds ? r.seconds : 0), 0);
}

/**
 * Pooled over patches, an output's change e = out − Y1 split along n = target − Y1 (with
 * independent noise, the difference of two noise realisations): β = ⟨e, n⟩ / ⟨n, n⟩ is how far it
 * moved Y1 toward the target (1: all the way; 0: not at all), `off` = |e − βn|² / |n|² the change
 * that is not along n (distortion). Its pooled squared error against the target, relative to Y1's,
 * is (1 − β)² + off. Undefined (NaN) when n = 0, as with z-stack noise at |ΔD| = s.
 */
export function towardTarget(outs: readonly Float32Array[], ps: readonly { x: Float32Array; y1: Float32Array }[]): { beta: number; off: number } {
  let en = 0;
  let nn = 0;
  let ee = 0;
  ps.forEach((p, i) => {
    for (let j = 0; j < p.x.length; j++) {
      const e = outs[i][j] - p.y1[j];
      const n = p.x[j] - p.y1[j];
      en += e * n;
      nn += n * n;
      ee += e * e;
    }
  });
  const beta = en / nn;
  return { beta, off: (ee - beta * beta * nn) / nn };
}

export /** An 8-bit PNG as interleaved RGB in [0, 1] of its white level (each channel over its 99.5th percentile). */
async function whiteBalanced(file: string): Promise<{ hwc: Float32Array; width: number; height: number }> {
  const png = decode(await readFile(file));
  if (png.depth !== 8) throw new Error(`${file}: ${png.depth}-bit PNG; 8-bit expected`);
  const { width, height, channels } = png;
  const n = width * height;
  const hwc = new Float32Array(n * 3);
  for (let c = 0; c < 3; c++) {
    const src = channels >= 3 ? c : 0;
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = png.data[i * channels + src];
    const white = Math.max(1, Float32Array.from(v).sort()[Math.floor(0.995 * (n - 1))]);
    for (let i = 0; i < n; i++) hwc[i * 3 + c] = Math.min(1, v[i] / white);
  }
  return { hwc, width, height };
}
