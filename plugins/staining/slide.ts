/**
 * Whole-slide focus simulation and the paper's acquisition-time model.
 *
 * A slide is a grid of fields over a smooth focal surface (sum of low-frequency cosines, µm).
 * A focus map measures the surface at a regular sub-grid of fields (a fraction of them: 8.5 %
 * fine, 2.1 % coarse), each point with a uniform error of ± its precision (0.35 µm fine,
 * 0.83 µm coarse), and is interpolated bilinearly (clamped at the edges) to every pixel; a
 * field's defocus is the true surface minus the map, per pixel (spatially varying defocus).
 *
 * Timing [paper Results/Discussion]: time = fields × time per field + focus points × time per
 * point (33 s fine, 15 s coarse). The scan time without autofocus is derived from the paper's
 * totals: (27.1 − 9.8) min over the fields of one ~23 mm² biopsy.
 */
import { FocalError, mulberry32 } from '../../core/index.js';

export interface FocusMapSpec {
  /** Fraction of fields with a focus point (0 < f ≤ 1). */
  fraction: number;
  /** Precision: the measured focus is off by a uniform error in ±precisionUm. */
  precisionUm: number;
  /** Seconds per focus point. */
  secondsPerPoint: number;
}

export const FINE_MAP: FocusMapSpec = { fraction: 0.085, precisionUm: 0.35, secondsPerPoint: 33 };
export const COARSE_MAP: FocusMapSpec = { fraction: 0.021, precisionUm: 0.83, secondsPerPoint: 15 };

export interface SlideSpec {
  fieldsX: number;
  fieldsY: number;
  fieldPx: number;
  pixelSizeUm: number;
  /** Peak-to-peak amplitude of the focal surface, µm. */
  surfaceAmplitudeUm: number;
  seed: number;
}

export interface FocusMap {
  spec: FocusMapSpec;
  /** Mean spacing of focus points, fields. */
  step: number;
  /** Focus points: field column, row and the measured z (µm). */
  points: { fx: number; fy: number; zUm: number }[];
}

/** The true focal surface at slide position (x, y) µm. */
export function focalSurface(s: SlideSpec): (xUm: number, yUm: number) => number {
  const rand = mulberry32(s.seed >>> 0);
  const wUm = s.fieldsX * s.fieldPx * s.pixelSizeUm;
  const hUm = s.fieldsY * s.fieldPx * s.pixelSizeUm;
  const terms = Array.from({ length: 4 }, () => ({ kx: (0.3 + 1.2 * rand()) / wUm, ky: (0.3 + 1.2 * rand()) / hUm, phase: 2 * Math.PI * rand(), a: 0.5 + rand() }));
  const norm = terms.reduce((q, t) => q + t.a, 0);
  const tilt = [(rand() - 0.5) / wUm, (rand() - 0.5) / hUm];
  return (x, y) => (s.surfaceAmplitudeUm / 2) * (terms.reduce((q, t) => q + t.a * Math.cos(2 * Math.PI * (t.kx * x + t.ky * y) + t.phase), 0) / norm + tilt[0] * x + tilt[1] * y);
}

function checkSlide(s: SlideSpec): void {
  for (const k of ['fieldsX', 'fieldsY', 'fieldPx'] as const) if (!Number.isInteger(s[k]) || s[k] < 1) throw new FocalError('E_PARAMS', `${k}: must be a positive integer, got ${s[k]}`, { field: k });
  if (!(s.pixelSizeUm > 0)) throw new FocalError('E_PARAMS', `pixelSizeUm: must be > 0, got ${s.pixelSizeUm}`, { field: 'pixelSizeUm' });
  if (!(s.surfaceAmplitudeUm >= 0)) throw new FocalError('E_PARAMS', `surfaceAmplitudeUm: must be ≥ 0, got ${s.surfaceAmplitudeUm}`, { field: 'surfaceAmplitudeUm' });
}

/** Measures a focus map: a regular grid of round(fields·√fraction) points per axis (centred), each with a uniform error of ±precision. */
export function measureFocusMap(s: SlideSpec, m: FocusMapSpec, seed: number): FocusMap {
  checkSlide(s);
  if (!(m.fraction > 0 && m.fraction <= 1)) throw new FocalError('E_PARAMS', `fraction: must be in (0, 1], got ${m.fraction}`, { field: 'fraction' });
  const surface = focalSurface(s);
  const rand = mulberry32(seed >>> 0);
  const nx = Math.max(1, Math.round(s.fieldsX * Math.sqrt(m.fraction)));
  const ny = Math.max(1, Math.round(s.fieldsY * Math.sqrt(m.fraction)));
  const step = Math.sqrt((s.fieldsX * s.fieldsY) / (nx * ny));
  const fieldUm = s.fieldPx * s.pixelSizeUm;
  const points: FocusMap['points'] = [];
  for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
    const fx = Math.floor(((i + 0.5) * s.fieldsX) / nx);
    const fy = Math.floor(((j + 0.5) * s.fieldsY) / ny);
    points.push({ fx, fy, zUm: surface((fx + 0.5) * fieldUm, (fy + 0.5) * fieldUm) + m.precisionUm * (2 * rand() - 1) });
  }
  return { spec: m, step, points };
}

/** The map's z (µm) at slide position (x, y) µm: bilinear between focus points, clamped at the edges. */
export function interpolateFocusMap(map: FocusMap, s: SlideSpec): (xUm: number, yUm: number) => number {
  const xs = [...new Set(map.points.map((p) => p.fx))].sort((a, b) => a - b);
  const ys = [...new Set(map.points.map((p) => p.fy))].sort((a, b) => a - b);
  const z = new Map(map.points.map((p) => [`${p.fx},${p.fy}`, p.zUm]));
  const fieldUm = s.fieldPx * s.pixelSizeUm;
  const bracket = (v: number, grid: number[]): [number, number, number] => {
    if (grid.length === 1 || v <= grid[0]) return [0, 0, 0];
    if (v >= grid[grid.length - 1]) return [grid.length - 1, grid.length - 1, 0];
    let i = 0;
    while (grid[i + 1] < v) i++;
    return [i, i + 1, (v - grid[i]) / (grid[i + 1] - grid[i])];
  };
  return (x, y) => {
    const [i0, i1, tx] = bracket(x / fieldUm - 0.5, xs);
    const [j0, j1, ty] = bracket(y / fieldUm - 0.5, ys);
    const at = (i: number, j: number) => z.get(`${xs[i]},${ys[j]}`)!;
    return (1 - ty) * ((1 - tx) * at(i0, j0) + tx * at(i1, j0)) + ty * ((1 - tx) * at(i0, j1) + tx * at(i1, j1));
  };
}

/** Per-pixel defocus (µm) of field (fx, fy) when focused with `map`: true surface − map. */
export function fieldDefocusMap(s: SlideSpec, map: FocusMap, fx: number, fy: number): Float32Array {
  const surface = focalSurface(s);
  const at = interpolateFocusMap(map, s);
  const out = new Float32Array(s.fieldPx * s.fieldPx);
  const x0 = fx * s.fieldPx * s.pixelSizeUm;
  const y0 = fy * s.fieldPx * s.pixelSizeUm;
  for (let y = 0; y < s.fieldPx; y++) for (let x = 0; x < s.fieldPx; x++) {
    const xu = x0 + (x + 0.5) * s.pixelSizeUm;
    const yu = y0 + (y + 0.5) * s.pixelSizeUm;
    out[y * s.fieldPx + x] = surface(xu, yu) - at(xu, yu);
  }
  return out;
}

/** The paper's acquisition of one biopsy: ~23 mm² at 2048² fields of 0.1625 µm px (333 µm), 33 s / 15 s per focus point. */
export const PAPER_SCAN = {
  areaMm2: 23,
  fieldSideUm: 2048 * 0.1625,
  fineAutofocusMin: 9.8,
  coarseAutofocusMin: 1.1,
  fineTotalMin: 27.1,
  coarseTotalMin: 18.4,
};

export interface TimingRow {
  map: 'fine' | 'coarse';
  fields: number;
  focusPoints: number;
  autofocusMin: number;
  scanMin: number;
  inferenceMin: number;
  totalMin: number;
}

/**
 * The timing model for an area: fields = area / field area; focus points = fraction × fields;
 * autofocus = points × s/point; scan without autofocus = fields × the per-field time derived
 * from the paper's fine totals; inference = fields × tiles per field × seconds per tile (the
 * cascade for the coarse map; 0 for the fine map, whose standard staining the paper does not time).
 */
export function timingModel(o: { areaMm2: number; fieldSideUm: number; cascadeSecondsPerField: number }): TimingRow[] {
  const fields = (o.areaMm2 * 1e6) / (o.fieldSideUm * o.fieldSideUm);
  const paperFields = (PAPER_SCAN.areaMm2 * 1e6) / PAPER_SCAN.fieldSideUm ** 2;
  const perFieldS = ((PAPER_SCAN.fineTotalMin - PAPER_SCAN.fineAutofocusMin) * 60) / paperFields;
  return (['fine', 'coarse'] as const).map((map) => {
    const m = map === 'fine' ? FINE_MAP : COARSE_MAP;
    const focusPoints = m.fraction * fields;
    const autofocusMin = (focusPoints * m.secondsPerPoint) / 60;
    const scanMin = (fields * perFieldS) / 60;
    const inferenceMin = map === 'coarse' ? (fields * o.cascadeSecondsPerField) / 60 : 0;
    return { map, fields, focusPoints, autofocusMin, scanMin, inferenceMin, totalMin: autofocusMin + scanMin + inferenceMin };
  });
}
