/**
 * Cell geometry shared by the multi-channel families (Cell-Painting-like U2OS fields and
 * MDA-MB-231-like cells): cells as star-shaped contours placed without heavy overlap, each
 * pixel owned by at most one cell, and per-cell nucleus, organelle anchors and stress fibres.
 * Every organelle channel is drawn from this one geometry, which is what makes the channels
 * correlated (and one predictable from another). Lengths in px unless named …Um.
 */
import { ellipseRadius, uniform, type Ellipse, type Rand } from './field.js';

/** One cell: contour r(θ) = R·(1 + Σ a_k cos(kθ + φ_k)) in a frame rotated by `angle` and stretched by `elongation` along it. */
export interface CellShape {
  cx: number;
  cy: number;
  radiusPx: number;
  angle: number;
  elongation: number;
  harmonics: { amp: number; phase: number }[];
  nucleus: Ellipse;
}

/** A straight stress fibre from (x0, y0) to (x1, y1), px, with a relative brightness. */
export interface Fibre {
  cell: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  weight: number;
}

/** Normalised radius of (x, y) in the cell: < 1 inside, 1 on the contour. */
export function cellRadius(c: CellShape, x: number, y: number): number {
  const dx = x - c.cx;
  const dy = y - c.cy;
  const co = Math.cos(c.angle);
  const si = Math.sin(c.angle);
  const s = Math.sqrt(c.elongation);
  const u = (dx * co + dy * si) / s;
  const v = (-dx * si + dy * co) * s;
  const th = Math.atan2(v, u);
  let m = 1;
  c.harmonics.forEach((h, k) => (m += h.amp * Math.cos((k + 2) * th + h.phase)));
  return Math.hypot(u, v) / (c.radiusPx * Math.max(0.4, m));
}

/** Largest extent of the cell from its centre, px (a bounding radius). */
export function cellExtent(c: CellShape): number {
  return c.radiusPx * Math.sqrt(c.elongation) * (1 + c.harmonics.reduce((s, h) => s + Math.abs(h.amp), 0)) + 2;
}

/** Options of {@link placeCells}. */
export interface PlaceOptions {
  width: number;
  height: number;
  count: number;
  radiusPx: [number, number];
  elongation: [number, number];
  /** Harmonic amplitudes a_2…a_5 are drawn in ±this. */
  wobble: number;
  /** Nucleus semi-axis as a fraction of R. */
  nucleusFraction: [number, number];
}

/**
 * Places up to `count` cells: each centre is tried 30 times at random and kept where its
 * bounding circle overlaps earlier cells by less than 25 % of the smaller radius.
 */
export function placeCells(o: PlaceOptions, rand: Rand): CellShape[] {
  const cells: CellShape[] = [];
  for (let k = 0; k < o.count; k++) {
    const R = uniform(rand, o.radiusPx[0], o.radiusPx[1]);
    const elongation = uniform(rand, o.elongation[0], o.elongation[1]);
    const angle = uniform(rand, 0, Math.PI);
    const harmonics = [0, 1, 2, 3].map(() => ({ amp: uniform(rand, -o.wobble, o.wobble), phase: uniform(rand, 0, 2 * Math.PI) }));
    const na = R * uniform(rand, o.nucleusFraction[0], o.nucleusFraction[1]);
    const nb = na * uniform(rand, 0.7, 1);
    const offR = R * uniform(rand, 0, 0.15);
    const offA = uniform(rand, 0, 2 * Math.PI);
    const nucAngle = angle + uniform(rand, -0.4, 0.4);
    for (let attempt = 0; attempt < 30; attempt++) {
      const cx = uniform(rand, 0, o.width);
      const cy = uniform(rand, 0, o.height);
      const r = R * Math.sqrt(elongation);
      const ok = cells.every((c) => Math.hypot(c.cx - cx, c.cy - cy) > 0.75 * (r + c.radiusPx * Math.sqrt(c.elongation)));
      if (!ok) continue;
      cells.push({
        cx, cy, radiusPx: R, angle, elongation, harmonics,
        nucleus: { cx: cx + offR * Math.cos(offA), cy: cy + offR * Math.sin(offA), a: na, b: nb, angle: nucAngle },
      });
      break;
    }
  }
  return cells;
}

/** Per pixel: the owning cell (1-based, 0 = background) and its normalised radius (the smallest over cells). */
export function cellLabels(cells: readonly CellShape[], width: number, height: number): { labels: Int32Array; radius: Float32Array } {
  const labels = new Int32Array(width * height);
  const radius = new Float32Array(width * height).fill(Infinity);
  cells.forEach((c, k) => {
    const e = cellExtent(c);
    const x0 = Math.max(0, Math.floor(c.cx - e));
    const x1 = Math.min(width - 1, Math.ceil(c.cx + e));
    const y0 = Math.max(0, Math.floor(c.cy - e));
    const y1 = Math.min(height - 1, Math.ceil(c.cy + e));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const r = cellRadius(c, x, y);
        const i = y * width + x;
        if (r < radius[i]) {
          radius[i] = r;
          if (r < 1) labels[i] = k + 1;
        }
      }
    }
  });
  return { labels, radius };
}

/** Per pixel: the nucleus (1-based cell index, 0 = none) and its normalised nucleus radius, restricted to the owning cell. */
export function nucleusLabels(cells: readonly CellShape[], labels: Int32Array, width: number, height: number): { labels: Int32Array; radius: Float32Array } {
  const out = new Int32Array(width * height);
  const radius = new Float32Array(width * height).fill(Infinity);
  cells.forEach((c, k) => {
    const n = c.nucleus;
    const e = Math.max(n.a, n.b) + 2;
    for (let y = Math.max(0, Math.floor(n.cy - e)); y <= Math.min(height - 1, Math.ceil(n.cy + e)); y++) {
      for (let x = Math.max(0, Math.floor(n.cx - e)); x <= Math.min(width - 1, Math.ceil(n.cx + e)); x++) {
        const i = y * width + x;
        if (labels[i] !== k + 1) continue;
        const r = ellipseRadius(n, x, y);
        radius[i] = Math.min(radius[i], r);
        if (r < 1) out[i] = k + 1;
      }
    }
  });
  return { labels: out, radius };
}

/**
 * Stress fibres of one cell: `count` straight lines roughly along the cell's long axis
 * (± `spreadRad`), at random offsets across it, each running inside the cell and ending
 * `endInsetPx` before the contour (where a focal adhesion holds it).
 */
export function stressFibres(c: CellShape, cellIndex: number, count: number, spreadRad: number, endInsetPx: number, rand: Rand): Fibre[] {
  const out: Fibre[] = [];
  const width = c.radiusPx / Math.sqrt(c.elongation);
  for (let k = 0; k < count; k++) {
    const th = c.angle + uniform(rand, -spreadRad, spreadRad);
    const off = uniform(rand, -0.8, 0.8) * width;
    // a point on the cell's cross-axis, then march both ways along th to the contour
    const px = c.cx - off * Math.sin(c.angle);
    const py = c.cy + off * Math.cos(c.angle);
    if (cellRadius(c, px, py) >= 0.9) continue;
    const ends: [number, number][] = [];
    for (const dir of [1, -1]) {
      let t = 0;
      while (t < 4 * c.radiusPx * Math.sqrt(c.elongation) && cellRadius(c, px + dir * (t + 0.5) * Math.cos(th), py + dir * (t + 0.5) * Math.sin(th)) < 1) t += 0.5;
      t = Math.max(0, t - endInsetPx);
      ends.push([px + dir * t * Math.cos(th), py + dir * t * Math.sin(th)]);
    }
    const len = Math.hypot(ends[0][0] - ends[1][0], ends[0][1] - ends[1][1]);
    if (len < 0.5 * c.radiusPx) continue;
    out.push({ cell: cellIndex, x0: ends[1][0], y0: ends[1][1], x1: ends[0][0], y1: ends[0][1], weight: uniform(rand, 0.5, 1) });
  }
  return out;
}

/** Adds a line of Gaussian cross-section (σ px) and value `value` from (x0, y0) to (x1, y1), masked to `mask` when given (pixels with mask ≠ owner are skipped). */
export function paintLine(data: Float32Array, width: number, height: number, f: { x0: number; y0: number; x1: number; y1: number }, sigmaPx: number, value: number, mask?: { labels: Int32Array; owner: number }): void {
  const r = Math.ceil(3 * sigmaPx) + 1;
  const x0 = Math.max(0, Math.floor(Math.min(f.x0, f.x1) - r));
  const x1 = Math.min(width - 1, Math.ceil(Math.max(f.x0, f.x1) + r));
  const y0 = Math.max(0, Math.floor(Math.min(f.y0, f.y1) - r));
  const y1 = Math.min(height - 1, Math.ceil(Math.max(f.y0, f.y1) + r));
  const dx = f.x1 - f.x0;
  const dy = f.y1 - f.y0;
  const L2 = dx * dx + dy * dy || 1;
  const s2 = 2 * sigmaPx * sigmaPx;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const i = y * width + x;
      if (mask && mask.labels[i] !== mask.owner) continue;
      const t = Math.min(1, Math.max(0, ((x - f.x0) * dx + (y - f.y0) * dy) / L2));
      const d2 = (x - f.x0 - t * dx) ** 2 + (y - f.y0 - t * dy) ** 2;
      if (d2 < 9 * sigmaPx * sigmaPx) data[i] += value * Math.exp(-d2 / s2);
    }
  }
}

/** Adds an elliptical Gaussian blob (σ along `angle` and across it, px). */
export function paintBlob(data: Float32Array, width: number, height: number, cx: number, cy: number, sigmaAlongPx: number, sigmaAcrossPx: number, angle: number, value: number): void {
  const r = Math.ceil(3 * Math.max(sigmaAlongPx, sigmaAcrossPx)) + 1;
  const co = Math.cos(angle);
  const si = Math.sin(angle);
  for (let y = Math.max(0, Math.floor(cy - r)); y <= Math.min(height - 1, Math.ceil(cy + r)); y++) {
    for (let x = Math.max(0, Math.floor(cx - r)); x <= Math.min(width - 1, Math.ceil(cx + r)); x++) {
      const u = ((x - cx) * co + (y - cy) * si) / sigmaAlongPx;
      const v = (-(x - cx) * si + (y - cy) * co) / sigmaAcrossPx;
      const q = u * u + v * v;
      if (q < 9) data[y * width + x] += value * Math.exp(-0.5 * q);
    }
  }
}
