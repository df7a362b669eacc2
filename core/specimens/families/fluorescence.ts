/**
 * Fluorescence families: relative emitter density of thin specimens (one focal plane).
 */
import { gaussianRandom } from '../../numeric/random.js';
import { blur, deposit, ellipseRadius, logUniform, newField, noiseField, pareto, paintEllipse, softEdge, uniform, walk, type Ellipse, type Field, type Rand } from '../field.js';
import { fieldUm, px, type FluorescenceFamily, type RenderGeometry } from '../family.js';

/** Places up to `count` non-overlapping ellipses (centre spacing ≥ overlap · (rᵢ + rⱼ)). */
export function placeEllipses(g: RenderGeometry, count: number, radiusPx: () => number, elongation: number, overlap: number, rand: Rand, wobble = 0): Ellipse[] {
  const out: Ellipse[] = [];
  const tries = count * 30;
  for (let t = 0; t < tries && out.length < count; t++) {
    const r = radiusPx();
    const e1 = 1 + (elongation - 1) * rand();
    const e: Ellipse = {
      cx: uniform(rand, -0.3 * r, g.width + 0.3 * r),
      cy: uniform(rand, -0.3 * r, g.height + 0.3 * r),
      a: r * Math.sqrt(e1),
      b: r / Math.sqrt(e1),
      angle: rand() * Math.PI,
      wobble: wobble > 0 ? [0, 1, 2].map(() => ({ amp: (wobble * rand()) / 2, phase: 2 * Math.PI * rand() })) : undefined,
    };
    const mean = (q: Ellipse): number => Math.sqrt(q.a * q.b);
    if (out.some((q) => Math.hypot(q.cx - e.cx, q.cy - e.cy) < overlap * (mean(q) + mean(e)))) continue;
    out.push(e);
  }
  return out;
}

/** Nuclei with chromatin texture, a brighter rim and dark nucleoli, added to `f`. */
export function paintNuclei(f: Field, g: RenderGeometry, nuclei: Ellipse[], texture: number, spread: number, rand: Rand): void {
  const fine = noiseField(g.width, g.height, px(g, 0.35), rand);
  const coarse = noiseField(g.width, g.height, px(g, 1.2), rand);
  const edge = Math.min(0.5, px(g, 0.4) / Math.max(1, nuclei[0]?.a ?? 1));
  for (const e of nuclei) {
    const b = 1 - spread * rand();
    const nucleoli: Ellipse[] = [];
    const nn = Math.floor(rand() * 3) + (rand() < 0.7 ? 1 : 0);
    for (let k = 0; k < nn; k++) {
      const rr = 0.5 * rand();
      const th = 2 * Math.PI * rand();
      const s = Math.max(0.6, px(g, uniform(rand, 0.5, 1.1)));
      nucleoli.push({ cx: e.cx + rr * e.a * Math.cos(th), cy: e.cy + rr * e.b * Math.sin(th), a: s, b: s * uniform(rand, 0.7, 1), angle: rand() * Math.PI });
    }
    paintEllipse(f, e, (r, x, y) => {
      const m = softEdge(r, edge);
      if (m === 0) return 0;
      const i = Math.min(g.height - 1, Math.max(0, Math.round(y))) * g.width + Math.min(g.width - 1, Math.max(0, Math.round(x)));
      const chromatin = Math.max(0.05, 1 + texture * (0.6 * fine.data[i] + 0.4 * coarse.data[i]));
      const rim = 1 + 0.25 * Math.exp(-(((1 - r) / 0.12) ** 2));
      let hole = 1;
      for (const q of nucleoli) hole *= 1 - 0.6 * softEdge(ellipseRadius(q, x, y), 0.5);
      return b * m * chromatin * rim * hole;
    }, 'max');
  }
}

/** Cell bodies: large wobbly ellipses, centre spacing so they barely touch. */
function cellBodies(g: RenderGeometry, count: number, diameterUm: number, rand: Rand): Ellipse[] {
  return placeEllipses(g, count, () => px(g, diameterUm / 2) * uniform(rand, 0.8, 1.2), 1.5, 0.85, rand, 0.25);
}

function cellMask(g: RenderGeometry, cells: Ellipse[]): Field {
  const m = newField(g.width, g.height);
  for (const c of cells) paintEllipse(m, c, (r) => softEdge(r, 0.05), 'max');
  return m;
}

const at = (f: Field, x: number, y: number): number => {
  const xi = Math.round(x);
  const yi = Math.round(y);
  return xi < 0 || yi < 0 || xi >= f.width || yi >= f.height ? 0 : f.data[yi * f.width + xi];
};

/** Draws a filament along a walk, clipped to `mask` when given; blurred later. */
function filament(f: Field, g: RenderGeometry, x: number, y: number, angle: number, lengthUm: number, persistenceUm: number, brightness: number, rand: Rand, mask?: Field): void {
  walk(x, y, angle, px(g, lengthUm), px(g, persistenceUm), rand, (wx, wy) => {
    const m = mask ? at(mask, wx, wy) : 1;
    if (m > 0) deposit(f, wx, wy, brightness * m);
  });
}

const cellCount = (g: RenderGeometry, diameterUm: number, max: number): number => Math.max(1, Math.min(max, Math.round((fieldUm(g) / diameterUm) ** 2 * 0.6)));

const capFraction = (fraction: number, lo: number, hi: number) => (rand: Rand, g: RenderGeometry): number => Math.max(lo, Math.min(hi, fraction * fieldUm(g)) * uniform(rand, 0.4, 1));

export const nucleiFamily: FluorescenceFamily = {
  name: 'nuclei',
  modality: 'fluorescence',
  description: 'DAPI-like nuclei, sparse to confluent, textured chromatin, nucleoli',
  params: {
    diameterUm: { min: 3, max: 25, description: 'mean nucleus diameter, µm', draw: (r) => uniform(r, 5, 14) },
    coverage: { min: 0.01, max: 0.8, description: 'fraction of the field covered by nuclei', log: true },
    elongation: { min: 1, max: 3, description: 'largest axis ratio', draw: (r) => uniform(r, 1, 1.8) },
    texture: { min: 0, max: 1, description: 'chromatin texture contrast', draw: (r) => uniform(r, 0.1, 0.6) },
    brightnessSpread: { min: 0, max: 0.9, description: 'nucleus-to-nucleus brightness spread (fraction)', draw: (r) => uniform(r, 0, 0.6) },
  },
  render(g, p, rand) {
    const f = newField(g.width, g.height);
    const rPx = px(g, p.diameterUm / 2);
    const n = Math.max(1, Math.round((p.coverage * g.width * g.height) / (Math.PI * rPx * rPx)));
    const nuclei = placeEllipses(g, n, () => rPx * Math.exp(0.15 * gaussianRandom(rand)), p.elongation, 0.8, rand, 0.1);
    paintNuclei(f, g, nuclei, p.texture, p.brightnessSpread, rand);
    return f.data;
  },
};

export const cellsFamily: FluorescenceFamily = {
  name: 'cells',
  modality: 'fluorescence',
  description: 'whole cells with smooth cytoplasm (large: up to a third of the field), nucleus brighter or darker',
  params: {
    diameterUm: { min: 5, max: 300, description: 'mean cell diameter, µm (default up to a third of the field)', draw: capFraction(1 / 3, 8, 120) },
    count: { min: 1, max: 200, integer: true, description: 'number of cells (fewer when they do not fit)', draw: (r) => Math.round(logUniform(r, 1, 40)) },
    nucleusContrast: { min: -0.9, max: 2, description: 'nucleus intensity relative to the cytoplasm, minus 1', draw: (r) => uniform(r, -0.6, 0.8) },
    gradient: { min: 0, max: 0.8, description: 'smooth intensity gradient across a cell (fraction)', draw: (r) => uniform(r, 0, 0.4) },
  },
  render(g, p, rand) {
    const f = newField(g.width, g.height);
    const cells = cellBodies(g, p.count, p.diameterUm, rand);
    const slow = noiseField(g.width, g.height, px(g, p.diameterUm / 6), rand);
    for (const c of cells) {
      const b = uniform(rand, 0.5, 1);
      const gx = Math.cos(2 * Math.PI * rand());
      const gy = Math.sqrt(1 - gx * gx);
      const nuc: Ellipse = { cx: c.cx + 0.15 * c.a * (rand() - 0.5), cy: c.cy + 0.15 * c.b * (rand() - 0.5), a: 0.35 * c.b, b: 0.3 * c.b, angle: c.angle };
      const edge = Math.min(0.3, px(g, 0.5) / c.b);
      paintEllipse(f, c, (r, x, y) => {
        const m = softEdge(r, edge);
        if (m === 0) return 0;
        const ramp = 1 + p.gradient * (((x - c.cx) * gx + (y - c.cy) * gy) / c.a);
        const n = 1 + p.nucleusContrast * softEdge(ellipseRadius(nuc, x, y), 0.2);
        return b * m * Math.max(0.05, ramp) * n * (1 + 0.05 * at(slow, x, y));
      }, 'max', true);
    }
    return f.data;
  },
};

export const discFamily: FluorescenceFamily = {
  name: 'disc',
  modality: 'fluorescence',
  description: 'one uniform disc (large smooth object for ringing tests), anti-aliased edge',
  params: {
    diameterUm: { min: 0.5, max: 500, description: 'disc diameter, µm (default up to a third of the field)', draw: capFraction(1 / 3, 5, 150) },
    offsetX: { min: -0.5, max: 0.5, description: 'centre offset from the field centre, fraction of the width', draw: (r) => uniform(r, -0.1, 0.1) },
    offsetY: { min: -0.5, max: 0.5, description: 'centre offset from the field centre, fraction of the height', draw: (r) => uniform(r, -0.1, 0.1) },
  },
  render(g, p) {
    const f = newField(g.width, g.height);
    const r = px(g, p.diameterUm / 2);
    paintEllipse(f, { cx: (g.width - 1) / 2 + p.offsetX * g.width, cy: (g.height - 1) / 2 + p.offsetY * g.height, a: r, b: r, angle: 0 }, (q) => (q < 1 ? 1 : 0), 'set', true);
    return f.data;
  },
};

export const membranesFamily: FluorescenceFamily = {
  name: 'membranes',
  modality: 'fluorescence',
  description: 'cell outlines of an epithelial sheet (membrane stain), islands to confluent',
  params: {
    cellDiameterUm: { min: 4, max: 60, description: 'mean cell diameter, µm', draw: (r) => uniform(r, 8, 25) },
    widthUm: { min: 0.1, max: 2, description: 'membrane thickness, µm', draw: (r) => uniform(r, 0.2, 0.7) },
    fill: { min: 0.1, max: 1, description: 'fraction of the field covered by the sheet', draw: (r) => uniform(r, 0.4, 1) },
    cytoplasm: { min: 0, max: 0.5, description: 'cytoplasm intensity relative to the membrane', draw: (r) => uniform(r, 0, 0.15) },
  },
  render(g, p, rand) {
    const d = px(g, p.cellDiameterUm);
    const nx = Math.ceil(g.width / d) + 2;
    const ny = Math.ceil(g.height / d) + 2;
    const seeds = new Float64Array(nx * ny * 2);
    const gain = new Float32Array(nx * ny);
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        seeds[2 * (j * nx + i)] = (i - 1 + uniform(rand, 0.1, 0.9)) * d;
        seeds[2 * (j * nx + i) + 1] = (j - 1 + uniform(rand, 0.1, 0.9)) * d;
        gain[j * nx + i] = uniform(rand, 0.6, 1);
      }
    }
    const sheet = noiseField(g.width, g.height, Math.max(d, Math.min(g.width, g.height) / 6), rand);
    const cut = quantile(sheet.data, 1 - p.fill);
    const w = Math.max(0.5, px(g, p.widthUm) / 2);
    const f = newField(g.width, g.height);
    for (let y = 0; y < g.height; y++) {
      for (let x = 0; x < g.width; x++) {
        const ci = Math.floor(x / d) + 1;
        const cj = Math.floor(y / d) + 1;
        let b1 = -1;
        let d1 = Infinity;
        for (let j = cj - 2; j <= cj + 2; j++) for (let i = ci - 2; i <= ci + 2; i++) {
          if (i < 0 || j < 0 || i >= nx || j >= ny) continue;
          const q = (j * nx + i) * 2;
          const dd = (seeds[q] - x) ** 2 + (seeds[q + 1] - y) ** 2;
          if (dd < d1) [d1, b1] = [dd, j * nx + i];
        }
        let best = Infinity;
        for (let j = cj - 2; j <= cj + 2; j++) for (let i = ci - 2; i <= ci + 2; i++) {
          if (i < 0 || j < 0 || i >= nx || j >= ny || j * nx + i === b1) continue;
          const q = (j * nx + i) * 2;
          const dd = (seeds[q] - x) ** 2 + (seeds[q + 1] - y) ** 2;
          const sep = Math.hypot(seeds[q] - seeds[2 * b1], seeds[q + 1] - seeds[2 * b1 + 1]);
          const dist = (dd - d1) / (2 * sep); // distance to the bisector
          if (dist < best) best = dist;
        }
        const s = sheet.data[y * g.width + x];
        const inSheet = Math.min(1, Math.max(0, (s - cut) * 4));
        f.data[y * g.width + x] = inSheet * gain[b1] * (Math.exp(-0.5 * (best / w) ** 2) + p.cytoplasm);
      }
    }
    return f.data;
  },
};

export function quantile(a: Float32Array, q: number): number {
  const s = Float32Array.from(a).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.floor(q * s.length)))];
}

function cellsWithFilaments(name: string, description: string, kind: 'actin' | 'microtubules'): FluorescenceFamily {
  return {
    name,
    modality: 'fluorescence',
    description,
    params: {
      cellDiameterUm: { min: 10, max: 200, description: 'mean cell diameter, µm', draw: capFraction(0.45, 15, 70) },
      filamentsPerCell: { min: 5, max: 1000, integer: true, log: true, description: 'filaments per cell', draw: (r) => Math.round(logUniform(r, 30, 300)) },
      persistenceUm: { min: 0.5, max: 500, log: true, description: 'persistence length of a filament, µm', draw: (r) => (kind === 'actin' ? logUniform(r, 20, 200) : logUniform(r, 4, 30)) },
      widthUm: { min: 0.02, max: 1, description: 'filament (bundle) width, µm', draw: (r) => (kind === 'actin' ? uniform(r, 0.1, 0.4) : uniform(r, 0.025, 0.1)) },
      diffuse: { min: 0, max: 0.5, description: 'diffuse cytoplasmic signal relative to a filament', draw: (r) => uniform(r, 0, 0.08) },
    },
    render(g, p, rand) {
      const cells = cellBodies(g, cellCount(g, p.cellDiameterUm, 8), p.cellDiameterUm, rand);
      const mask = cellMask(g, cells);
      const f = newField(g.width, g.height);
      for (const c of cells) {
        const nucX = c.cx + 0.2 * c.a * (rand() - 0.5);
        const nucY = c.cy + 0.2 * c.b * (rand() - 0.5);
        const main = rand() * Math.PI;
        for (let k = 0; k < p.filamentsPerCell; k++) {
          const b = Math.exp(0.5 * gaussianRandom(rand));
          if (kind === 'actin') {
            // stress fibres: long, mostly along one direction; plus a cortical ring
            const th = main + 0.35 * gaussianRandom(rand);
            const t = uniform(rand, -1, 1);
            const x = c.cx + t * c.b * Math.cos(th + Math.PI / 2) - c.a * Math.cos(th);
            const y = c.cy + t * c.b * Math.sin(th + Math.PI / 2) - c.a * Math.sin(th);
            filament(f, g, x, y, th, 2 * c.a * g.pixelSizeUm, p.persistenceUm, b, rand, mask);
          } else {
            // microtubules: from the centrosome outwards, curving, up to the cell edge
            const th = 2 * Math.PI * rand();
            filament(f, g, nucX, nucY, th, uniform(rand, 0.6, 1.3) * c.a * g.pixelSizeUm, p.persistenceUm, b * 0.6, rand, mask);
          }
        }
        if (kind === 'actin') paintEllipse(f, c, (r) => (r < 1 && r > 0.93 ? 1.5 : 0), 'add');
      }
      blur(f, Math.max(0.5, px(g, p.widthUm) / 2.355));
      const m = maxOfField(f);
      for (let i = 0; i < f.data.length; i++) f.data[i] += p.diffuse * m * 0.3 * mask.data[i];
      return f.data;
    },
  };
}

const maxOfField = (f: Field): number => f.data.reduce((a, v) => (v > a ? v : a), 0);

export const actinFamily = cellsWithFilaments('actin', 'actin-like networks: straight stress-fibre bundles and a cortical ring in spread cells', 'actin');
export const microtubulesFamily = cellsWithFilaments('microtubules', 'microtubule-like curvilinear filaments radiating from a centrosome to the cell edge', 'microtubules');

export const mitochondriaFamily: FluorescenceFamily = {
  name: 'mitochondria',
  modality: 'fluorescence',
  description: 'tubular mitochondria (short worms) in the cytoplasm around a dark nucleus',
  params: {
    cellDiameterUm: { min: 10, max: 200, description: 'mean cell diameter, µm', draw: capFraction(0.4, 15, 60) },
    perCell: { min: 5, max: 2000, integer: true, log: true, description: 'mitochondria per cell', draw: (r) => Math.round(logUniform(r, 40, 300)) },
    lengthUm: { min: 0.3, max: 20, log: true, description: 'mean tubule length, µm', draw: (r) => logUniform(r, 1, 5) },
    widthUm: { min: 0.1, max: 1.5, description: 'tubule width, µm', draw: (r) => uniform(r, 0.25, 0.6) },
  },
  render(g, p, rand) {
    const cells = cellBodies(g, cellCount(g, p.cellDiameterUm, 8), p.cellDiameterUm, rand);
    const mask = cellMask(g, cells);
    const f = newField(g.width, g.height);
    for (const c of cells) {
      const nuc: Ellipse = { cx: c.cx, cy: c.cy, a: 0.35 * c.b, b: 0.3 * c.b, angle: c.angle };
      for (let k = 0; k < p.perCell; k++) {
        const r = Math.sqrt(uniform(rand, 0.1, 0.9));
        const th = 2 * Math.PI * rand();
        const x = c.cx + r * c.a * Math.cos(th) * Math.cos(c.angle) - r * c.b * Math.sin(th) * Math.sin(c.angle);
        const y = c.cy + r * c.a * Math.cos(th) * Math.sin(c.angle) + r * c.b * Math.sin(th) * Math.cos(c.angle);
        if (ellipseRadius(nuc, x, y) < 1.1) continue;
        const len = p.lengthUm * Math.exp(0.5 * gaussianRandom(rand));
        filament(f, g, x, y, 2 * Math.PI * rand(), len, 2 * p.lengthUm, Math.exp(0.3 * gaussianRandom(rand)), rand, mask);
      }
    }
    blur(f, Math.max(0.5, px(g, p.widthUm) / 2.355));
    return f.data;
  },
};

function spots(f: Field, g: RenderGeometry, x: number, y: number, sigmaPx: number, amount: number): void {
  if (sigmaPx < 0.6) {
    deposit(f, x, y, amount);
    return;
  }
  const r = Math.ceil(3 * sigmaPx);
  const norm = amount / (2 * Math.PI * sigmaPx * sigmaPx);
  for (let yy = Math.max(0, Math.floor(y) - r); yy <= Math.min(g.height - 1, Math.floor(y) + r); yy++) {
    for (let xx = Math.max(0, Math.floor(x) - r); xx <= Math.min(g.width - 1, Math.floor(x) + r); xx++) {
      f.data[yy * g.width + xx] += norm * Math.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sigmaPx * sigmaPx));
    }
  }
}

export const punctaFamily: FluorescenceFamily = {
  name: 'puncta',
  modality: 'fluorescence',
  description: 'puncta / vesicles (0.1–1 µm) with log-normal brightness inside cells, dim cytoplasm',
  params: {
    cellDiameterUm: { min: 10, max: 200, description: 'mean cell diameter, µm', draw: capFraction(0.4, 15, 60) },
    perCell: { min: 1, max: 5000, integer: true, log: true, description: 'puncta per cell', draw: (r) => Math.round(logUniform(r, 20, 400)) },
    diameterUm: { min: 0.05, max: 2, description: 'mean punctum diameter, µm', draw: (r) => uniform(r, 0.1, 0.8) },
    brightnessSigma: { min: 0, max: 2, description: 'σ of log brightness', draw: (r) => uniform(r, 0.2, 1) },
    cytoplasm: { min: 0, max: 0.5, description: 'cytoplasm intensity relative to a mean punctum peak', draw: (r) => uniform(r, 0, 0.1) },
  },
  render(g, p, rand) {
    const cells = cellBodies(g, cellCount(g, p.cellDiameterUm, 8), p.cellDiameterUm, rand);
    const mask = cellMask(g, cells);
    const f = newField(g.width, g.height);
    const sigmaPx = px(g, p.diameterUm) / 2.355;
    for (const c of cells) {
      for (let k = 0; k < p.perCell; k++) {
        const r = Math.sqrt(rand()) * 0.97;
        const th = 2 * Math.PI * rand();
        const x = c.cx + r * c.a * Math.cos(th) * Math.cos(c.angle) - r * c.b * Math.sin(th) * Math.sin(c.angle);
        const y = c.cy + r * c.a * Math.cos(th) * Math.sin(c.angle) + r * c.b * Math.sin(th) * Math.cos(c.angle);
        const s = sigmaPx * Math.exp(0.25 * gaussianRandom(rand));
        spots(f, g, x, y, s, Math.exp(p.brightnessSigma * gaussianRandom(rand)) * 2 * Math.PI * Math.max(s, 0.5) ** 2);
      }
    }
    blur(f, 0.5);
    const m = maxOfField(f);
    for (let i = 0; i < f.data.length; i++) f.data[i] += p.cytoplasm * 0.3 * m * mask.data[i];
    return f.data;
  },
};

export const beadsFamily: FluorescenceFamily = {
  name: 'beads',
  modality: 'fluorescence',
  description: 'sub-resolution fluorescent beads (point emitters of nearly equal brightness)',
  params: {
    densityPer100Um2: { min: 0.01, max: 50, log: true, description: 'beads per 100 µm²', draw: (r) => logUniform(r, 0.1, 3) },
    diameterUm: { min: 0.02, max: 0.25, description: 'bead diameter, µm (brightness ∝ volume)', draw: (r) => uniform(r, 0.04, 0.2) },
    sizeCv: { min: 0, max: 0.5, description: 'coefficient of variation of the bead diameter', draw: (r) => uniform(r, 0, 0.15) },
  },
  render(g, p, rand) {
    const f = newField(g.width, g.height);
    const n = Math.max(1, Math.round((p.densityPer100Um2 * g.width * g.height * g.pixelSizeUm ** 2) / 100));
    for (let k = 0; k < n; k++) {
      const d = Math.max(0.01, p.diameterUm * (1 + p.sizeCv * gaussianRandom(rand)));
      deposit(f, uniform(rand, 0, g.width - 1), uniform(rand, 0, g.height - 1), d ** 3);
    }
    return f.data;
  },
};

export const pointsFamily: FluorescenceFamily = {
  name: 'points',
  modality: 'fluorescence',
  description: 'sparse point sources with heavy-tailed (Pareto) brightness on a dark background (star-field-like)',
  params: {
    count: { min: 1, max: 5000, integer: true, log: true, description: 'number of sources', draw: (r) => Math.round(logUniform(r, 5, 300)) },
    tailIndex: { min: 0.5, max: 4, description: 'Pareto tail index of the brightness (smaller: heavier tail)', draw: (r) => uniform(r, 0.8, 2.2) },
  },
  render(g, p, rand) {
    const f = newField(g.width, g.height);
    for (let k = 0; k < p.count; k++) deposit(f, uniform(rand, 0, g.width - 1), uniform(rand, 0, g.height - 1), pareto(rand, p.tailIndex));
    return f.data;
  },
};

export const tissueFamily: FluorescenceFamily = {
  name: 'tissue',
  modality: 'fluorescence',
  description: 'dense tissue section: nuclei (some elongated) in a stroma of wavy fibres',
  params: {
    nucleusDiameterUm: { min: 3, max: 20, description: 'mean nucleus diameter, µm', draw: (r) => uniform(r, 5, 10) },
    coverage: { min: 0.02, max: 0.7, description: 'fraction of the field covered by nuclei', draw: (r) => uniform(r, 0.1, 0.45) },
    fibreDensity: { min: 0, max: 5, description: 'fibre length per area, µm per µm²', draw: (r) => uniform(r, 0.1, 1.2) },
    stroma: { min: 0, max: 1, description: 'fibre brightness relative to nuclei', draw: (r) => uniform(r, 0.15, 0.6) },
  },
  render(g, p, rand) {
    const fib = newField(g.width, g.height);
    const angleField = noiseField(g.width, g.height, Math.min(g.width, g.height) / 4, rand);
    const areaUm2 = g.width * g.height * g.pixelSizeUm ** 2;
    const lengthUm = 30;
    const nFib = Math.round((p.fibreDensity * areaUm2) / lengthUm);
    for (let k = 0; k < nFib; k++) {
      const x0 = uniform(rand, 0, g.width);
      const y0 = uniform(rand, 0, g.height);
      const th = at(angleField, x0, y0) * 1.5 + (rand() < 0.5 ? 0 : Math.PI);
      filament(fib, g, x0, y0, th, lengthUm * uniform(rand, 0.3, 1.5), 40, uniform(rand, 0.4, 1), rand);
    }
    blur(fib, Math.max(0.6, px(g, 0.5) / 2.355));
    const mf = maxOfField(fib);
    const f = newField(g.width, g.height);
    if (mf > 0) for (let i = 0; i < f.data.length; i++) f.data[i] = (p.stroma * fib.data[i]) / mf;
    const rPx = px(g, p.nucleusDiameterUm / 2);
    const n = Math.max(1, Math.round((p.coverage * g.width * g.height) / (Math.PI * rPx * rPx)));
    const nuclei = placeEllipses(g, n, () => rPx * Math.exp(0.2 * gaussianRandom(rand)), 2.5, 0.75, rand, 0.1);
    const nf = newField(g.width, g.height);
    paintNuclei(nf, g, nuclei, 0.4, 0.5, rand);
    for (let i = 0; i < f.data.length; i++) f.data[i] = Math.max(f.data[i], nf.data[i]);
    return f.data;
  },
};

export const FLUORESCENCE_FAMILIES: FluorescenceFamily[] = [nucleiFamily, cellsFamily, discFamily, membranesFamily, actinFamily, microtubulesFamily, mitochondriaFamily, punctaFamily, beadsFamily, pointsFamily, tissueFamily];
