/**
 * Brightfield families: H&E-stained sections as layered 3-D absorbers. Each layer holds the
 * optical density (base 10) of haematoxylin and eosin in a slab of thickness/layers µm;
 * nuclei are ellipsoids cut by several layers, fibres are thin and differ between layers.
 */
import { gaussianRandom } from '../../numeric/random.js';
import { blur, newField, noiseField, paintEllipse, softEdge, uniform, walk, deposit, ellipseRadius, type Ellipse, type Field, type Rand } from '../field.js';
import { px, type BrightfieldFamily, type RenderGeometry, type Section } from '../family.js';

/** Reference stain OD vectors (RGB), normalised; perturbed per slide. */
const HEMATOXYLIN: [number, number, number] = [0.65, 0.7, 0.29];
const EOSIN: [number, number, number] = [0.07, 0.99, 0.11];

function perturb(v: [number, number, number], amount: number, rand: Rand): [number, number, number] {
  const w = v.map((c) => Math.max(0.01, c * (1 + amount * (2 * rand() - 1)))) as [number, number, number];
  const n = Math.hypot(...w);
  return w.map((c) => c / n) as [number, number, number];
}

/** A 3-D nucleus: an ellipse in x–y and a z centre / half-height, µm. */
interface Nucleus3d {
  e: Ellipse;
  zUm: number;
  halfHeightUm: number;
  density: number;
}

const bfParams = {
  thicknessUm: { min: 1, max: 10, description: 'section thickness, µm', draw: (r: Rand) => uniform(r, 3, 4) },
  layers: { min: 1, max: 32, integer: true, description: 'number of absorbing layers through the section', draw: (r: Rand) => Math.round(uniform(r, 4, 8)) },
  hematoxylin: { min: 0.1, max: 3, description: 'haematoxylin strength (× a typical slide)', draw: (r: Rand) => uniform(r, 0.6, 1.4) },
  eosin: { min: 0.1, max: 3, description: 'eosin strength (× a typical slide)', draw: (r: Rand) => uniform(r, 0.6, 1.4) },
  stainVariation: { min: 0, max: 0.5, description: 'per-slide relative perturbation of the stain colour vectors', draw: (r: Rand) => uniform(r, 0, 0.15) },
};

class SectionBuilder {
  readonly h: Field[] = [];
  readonly e: Field[] = [];
  readonly zs: number[] = [];
  readonly dz: number;
  readonly chromatin: Field;
  constructor(readonly g: RenderGeometry, readonly p: Record<string, number>, readonly rand: Rand) {
    this.dz = p.thicknessUm / p.layers;
    for (let k = 0; k < p.layers; k++) {
      this.h.push(newField(g.width, g.height));
      this.e.push(newField(g.width, g.height));
      this.zs.push((k + 0.5) * this.dz);
    }
    this.chromatin = noiseField(g.width, g.height, px(g, 0.3), rand);
  }
  /** Eosin per µm on every layer where `mask` > 0, with a little texture. */
  fill(mask: (x: number, y: number) => number, eosinPerUm: number): void {
    const tex = noiseField(this.g.width, this.g.height, px(this.g, 1), this.rand);
    for (let y = 0; y < this.g.height; y++) for (let x = 0; x < this.g.width; x++) {
      const m = mask(x, y);
      if (m <= 0) continue;
      const i = y * this.g.width + x;
      for (const e of this.e) e.data[i] += m * eosinPerUm * this.dz * Math.max(0.2, 1 + 0.25 * tex.data[i]);
    }
  }
  nucleus(n: Nucleus3d): void {
    this.zs.forEach((z, k) => {
      const t = (z - n.zUm) / n.halfHeightUm;
      if (Math.abs(t) >= 1) return;
      const s = Math.sqrt(1 - t * t);
      const cut: Ellipse = { ...n.e, a: n.e.a * s, b: n.e.b * s };
      const edge = Math.min(0.5, 1.5 / Math.max(1, cut.b));
      paintEllipse(this.h[k], cut, (r, x, y) => {
        const m = softEdge(r, edge);
        if (m === 0) return 0;
        const c = this.chromatin.data[Math.min(this.g.height - 1, Math.max(0, Math.round(y))) * this.g.width + Math.min(this.g.width - 1, Math.max(0, Math.round(x)))];
        const rim = 1 + 0.4 * Math.exp(-(((1 - r) / 0.15) ** 2));
        return m * n.density * this.dz * Math.max(0.2, 1 + 0.45 * c) * rim;
      }, 'max');
    });
  }
  /** Eosin-dense fibres following `angle(x, y)`, different in every layer. */
  fibres(densityPerUm2: number, angle: (x: number, y: number) => number, eosinPerUm: number, mask: (x: number, y: number) => number, widthUm = 0.8): void {
    const areaUm2 = this.g.width * this.g.height * this.g.pixelSizeUm ** 2;
    this.e.forEach((layer) => {
      const f = newField(this.g.width, this.g.height);
      const n = Math.round((densityPerUm2 * areaUm2) / 40 / this.p.layers);
      for (let k = 0; k < n; k++) {
        const x0 = uniform(this.rand, 0, this.g.width);
        const y0 = uniform(this.rand, 0, this.g.height);
        let th = angle(x0, y0) + 0.2 * gaussianRandom(this.rand);
        let x = x0;
        let y = y0;
        const steps = Math.round(px(this.g, uniform(this.rand, 15, 60)) / 0.7);
        const b = uniform(this.rand, 0.5, 1);
        for (let s = 0; s < steps; s++) {
          if (mask(x, y) > 0) deposit(f, x, y, b);
          th += 0.1 * (angle(x, y) - th) + 0.15 * gaussianRandom(this.rand);
          x += 0.7 * Math.cos(th);
          y += 0.7 * Math.sin(th);
        }
      }
      blur(f, Math.max(0.5, px(this.g, widthUm) / 2.355));
      const w = px(this.g, widthUm);
      for (let i = 0; i < f.data.length; i++) layer.data[i] += Math.min(2, f.data[i] * w) * eosinPerUm * this.dz * 1.2;
    });
  }
  /** Red blood cells: biconcave eosin-dense discs ~7 µm across, ~2 µm thick. */
  redCells(centres: [number, number][]): void {
    for (const [cx, cy] of centres) {
      const r = px(this.g, uniform(this.rand, 3.2, 3.9));
      const e: Ellipse = { cx, cy, a: r, b: r * uniform(this.rand, 0.75, 1), angle: Math.PI * this.rand() };
      const zc = uniform(this.rand, 0, this.p.thicknessUm);
      this.zs.forEach((z, k) => {
        if (Math.abs(z - zc) > 1) return;
        paintEllipse(this.e[k], e, (q) => (q < 1 ? softEdge(q, 0.2) * (0.55 + 0.45 * q * q) * 0.9 * this.dz : 0), 'max', true);
      });
    }
  }
  finish(): Section {
    const p = this.p;
    const v = p.stainVariation;
    return {
      stainNames: ['hematoxylin', 'eosin'],
      stainVectors: [perturb(HEMATOXYLIN, v, this.rand), perturb(EOSIN, v, this.rand)],
      layers: this.h.map((h, k) => [h.data.map((x) => x * p.hematoxylin), this.e[k].data.map((x) => x * p.eosin)]),
      thicknessUm: p.thicknessUm,
    };
  }
}

function nucleusAt(b: SectionBuilder, cx: number, cy: number, diameterUm: number, elongation: number, angle: number, density = 0.35): Nucleus3d {
  const r = px(b.g, diameterUm / 2);
  return {
    e: { cx, cy, a: r * Math.sqrt(elongation), b: r / Math.sqrt(elongation), angle, wobble: [{ amp: 0.05 * b.rand(), phase: 6 * b.rand() }] },
    zUm: uniform(b.rand, -0.3 * diameterUm, b.p.thicknessUm + 0.3 * diameterUm),
    halfHeightUm: (diameterUm / 2) * uniform(b.rand, 0.8, 1.1),
    density: density * uniform(b.rand, 0.7, 1.2),
  };
}

export const heGlandFamily: BrightfieldFamily = {
  name: 'he-gland',
  modality: 'brightfield',
  description: 'H&E glandular tissue (colon/lung-like): glands with lumens lined by epithelium with basal nuclei, fibrous stroma with fibroblasts, capillaries with red blood cells',
  params: {
    ...bfParams,
    glandDiameterUm: { min: 10, max: 300, description: 'mean gland diameter, µm (default at most 0.6 of the field)', draw: (r, g) => Math.max(10, Math.min(uniform(r, 30, 80), 0.6 * Math.min(g.width, g.height) * g.pixelSizeUm)) },
    glandFraction: { min: 0, max: 0.8, description: 'fraction of the field covered by glands', draw: (r) => uniform(r, 0.2, 0.55) },
    nucleusDiameterUm: { min: 3, max: 15, description: 'mean epithelial nucleus length, µm', draw: (r) => uniform(r, 5, 9) },
  },
  render(g, p, rand) {
    const b = new SectionBuilder(g, p, rand);
    const rG = px(g, p.glandDiameterUm / 2);
    const nG = p.glandFraction > 0 ? Math.max(1, Math.round((p.glandFraction * g.width * g.height) / (Math.PI * rG * rG))) : 0;
    const glands: Ellipse[] = [];
    for (let t = 0; t < nG * 40 && glands.length < nG; t++) {
      const r = rG * uniform(rand, 0.7, 1.3);
      const e: Ellipse = { cx: uniform(rand, 0, g.width), cy: uniform(rand, 0, g.height), a: r * uniform(rand, 1, 1.5), b: r, angle: Math.PI * rand(), wobble: [{ amp: 0.08 * rand(), phase: 6 * rand() }, { amp: 0.06 * rand(), phase: 6 * rand() }] };
      if (glands.some((q) => Math.hypot(q.cx - e.cx, q.cy - e.cy) < 1.05 * (Math.max(q.a, q.b) + Math.max(e.a, e.b)))) continue;
      glands.push(e);
    }
    const epiUm = p.nucleusDiameterUm * 2.2;
    const glandR = (x: number, y: number): number => glands.reduce((m, q) => Math.min(m, ellipseRadius(q, x, y)), Infinity);
    const lumenEdge = (q: Ellipse): number => Math.max(0.2, 1 - px(g, epiUm) / q.b);
    const inLumen = (x: number, y: number): boolean => glands.some((q) => ellipseRadius(q, x, y) < lumenEdge(q));
    const stroma = (x: number, y: number): number => (glandR(x, y) > 1 ? 1 : 0);
    const space = noiseField(g.width, g.height, px(g, 15), rand);
    // stroma: pale eosin ground substance + collagen fibres (with loose, empty spaces)
    b.fill((x, y) => stroma(x, y) * (space.data[Math.floor(y) * g.width + Math.floor(x)] > 1.2 ? 0.15 : 0.6), 0.12);
    const orient = noiseField(g.width, g.height, px(g, 40), rand);
    b.fibres(1.2, (x, y) => 2 * orient.data[Math.min(g.height - 1, Math.floor(y)) * g.width + Math.min(g.width - 1, Math.floor(x))], 0.12, stroma);
    // epithelium: pink cytoplasm between lumen and basement membrane
    b.fill((x, y) => (glands.some((q) => { const r = ellipseRadius(q, x, y); return r <= 1 && r >= lumenEdge(q); }) ? 1 : 0), 0.1);
    for (const q of glands) {
      const rr = (1 + lumenEdge(q)) / 2;
      const perim = Math.PI * (q.a + q.b) * rr;
      const n = Math.floor(perim / px(g, p.nucleusDiameterUm * 0.55));
      for (let k = 0; k < n; k++) {
        const th = (2 * Math.PI * (k + 0.3 * rand())) / n;
        const rk = rr + 0.12 * (1 - lumenEdge(q)) * (rand() + 0.4);
        const lx = rk * q.a * Math.cos(th);
        const ly = rk * q.b * Math.sin(th);
        const x = q.cx + lx * Math.cos(q.angle) - ly * Math.sin(q.angle);
        const y = q.cy + lx * Math.sin(q.angle) + ly * Math.cos(q.angle);
        // elongated perpendicular to the gland boundary (columnar cells)
        const radial = Math.atan2(q.b * Math.sin(th) * Math.cos(q.angle) + q.a * Math.cos(th) * Math.sin(q.angle), q.a * Math.cos(th) * Math.cos(q.angle) - q.b * Math.sin(th) * Math.sin(q.angle));
        b.nucleus(nucleusAt(b, x, y, p.nucleusDiameterUm, 2.2, radial, 0.4));
      }
      // goblet-like pale mucin spots: nothing added; lumen stays empty
    }
    // stromal cells: elongated fibroblasts and round lymphocytes
    const nStroma = Math.round((g.width * g.height * g.pixelSizeUm ** 2) / 250);
    for (let k = 0; k < nStroma; k++) {
      const x = uniform(rand, 0, g.width);
      const y = uniform(rand, 0, g.height);
      if (!stroma(x, y) || inLumen(x, y)) continue;
      const lymph = rand() < 0.4;
      b.nucleus(nucleusAt(b, x, y, lymph ? uniform(rand, 4.5, 6) : uniform(rand, 6, 10), lymph ? 1.1 : 4, 2 * orient.data[Math.floor(y) * g.width + Math.floor(x)], lymph ? 0.6 : 0.4));
    }
    // capillaries with red blood cells in the stroma
    const rbc: [number, number][] = [];
    const nCap = Math.max(1, Math.round((g.width * g.height * g.pixelSizeUm ** 2) / 4000));
    for (let k = 0; k < nCap; k++) {
      let x = uniform(rand, 0, g.width);
      let y = uniform(rand, 0, g.height);
      if (!stroma(x, y)) continue;
      const th = Math.PI * 2 * rand();
      const n = Math.round(uniform(rand, 3, 12));
      for (let j = 0; j < n; j++) {
        rbc.push([x + px(g, 2) * gaussianRandom(rand), y + px(g, 2) * gaussianRandom(rand)]);
        x += px(g, 6) * Math.cos(th);
        y += px(g, 6) * Math.sin(th);
      }
    }
    b.redCells(rbc);
    return b.finish();
  },
};

export const heSkinFamily: BrightfieldFamily = {
  name: 'he-skin',
  modality: 'brightfield',
  description: 'H&E skin (stratified squamous): stratum corneum, keratinocyte layers flattening towards the surface, dark basal layer over wavy rete ridges, collagenous dermis with fibroblasts and vessels',
  params: {
    ...bfParams,
    epidermisUm: { min: 10, max: 500, description: 'mean epidermis thickness, µm', draw: (r) => uniform(r, 40, 90) },
    corneumUm: { min: 0, max: 60, description: 'stratum corneum thickness, µm', draw: (r) => uniform(r, 5, 15) },
    surfaceAngleDeg: { min: -90, max: 90, description: 'tilt of the skin surface in the field, degrees', draw: (r) => uniform(r, -20, 20) },
    nucleusDiameterUm: { min: 3, max: 15, description: 'mean keratinocyte nucleus diameter, µm', draw: (r) => uniform(r, 5, 8) },
  },
  render(g, p, rand) {
    const b = new SectionBuilder(g, p, rand);
    const ang = (p.surfaceAngleDeg * Math.PI) / 180;
    const [ux, uy] = [Math.cos(ang), Math.sin(ang)];
    const top = px(g, uniform(rand, 5, 25));
    const ridgePeriod = px(g, uniform(rand, 40, 90));
    const ridgeAmp = px(g, p.epidermisUm * uniform(rand, 0.15, 0.35));
    const phase = 6.28 * rand();
    // along-surface coordinate s and depth d below the surface (px)
    const coords = (x: number, y: number): [number, number] => {
      const s = x * ux + y * uy;
      const d = -x * uy + y * ux - top - px(g, 3) * Math.sin(s / px(g, 60) + phase);
      return [s, d];
    };
    const junction = (s: number): number => px(g, p.epidermisUm) + ridgeAmp * Math.sin((2 * Math.PI * s) / ridgePeriod + phase) ** 3;
    const corneum = px(g, p.corneumUm);
    // stratum corneum: eosin in wavy, basket-weave lamellae
    const lam = noiseField(g.width, g.height, px(g, 0.6), rand);
    b.fill((x, y) => {
      const [, d] = coords(x, y);
      if (d < 0 || d > corneum) return 0;
      return lam.data[Math.floor(y) * g.width + Math.floor(x)] > -0.2 ? 0.9 : 0.15;
    }, 0.12);
    // viable epidermis: pale pink cytoplasm, cell borders faint
    b.fill((x, y) => {
      const [s, d] = coords(x, y);
      return d > corneum && d < junction(s) ? 0.8 : 0;
    }, 0.07);
    // keratinocyte nuclei: dense, flattening and fading towards the granular layer
    const rN = px(g, p.nucleusDiameterUm / 2);
    const step = rN * 2.4;
    for (let yy = -g.height; yy < 2 * g.height; yy += step * 0.85) {
      for (let xx = -g.width; xx < 2 * g.width; xx += step) {
        const x = xx + step * 0.5 * gaussianRandom(rand) * 0.4 + ((Math.round(yy / step) % 2) * step) / 2;
        const y = yy + step * 0.3 * gaussianRandom(rand);
        if (x < -rN || y < -rN || x > g.width + rN || y > g.height + rN) continue;
        const [s, d] = coords(x, y);
        const j = junction(s);
        if (d < corneum + rN || d > j - rN * 0.6) continue;
        const frac = (d - corneum) / Math.max(1, j - corneum); // 0 surface … 1 basal
        const basal = j - d < 2.5 * rN;
        if (rand() > 0.35 + 0.65 * frac) continue;
        const el = basal ? 1.8 : 1 + 2.2 * (1 - frac) ** 2;
        const angle = basal ? Math.atan2(uy, ux) + Math.PI / 2 : Math.atan2(uy, ux);
        b.nucleus(nucleusAt(b, x, y, p.nucleusDiameterUm * (basal ? 0.85 : 1), el, angle, basal ? 0.6 : 0.25 + 0.15 * frac));
      }
    }
    // dermis: collagen bundles (thick, wavy eosin) and sparse elongated fibroblasts
    const dermis = (x: number, y: number): number => {
      const [s, d] = coords(x, y);
      return d > junction(s) + px(g, 2) ? 1 : 0;
    };
    b.fill((x, y) => dermis(x, y) * 0.25, 0.1);
    const orient = noiseField(g.width, g.height, px(g, 30), rand);
    b.fibres(2, (x, y) => ang + 1.2 * orient.data[Math.min(g.height - 1, Math.max(0, Math.floor(y))) * g.width + Math.min(g.width - 1, Math.max(0, Math.floor(x)))], 0.22, dermis, 2.5);
    const areaUm2 = g.width * g.height * g.pixelSizeUm ** 2;
    for (let k = 0; k < Math.round(areaUm2 / 400); k++) {
      const x = uniform(rand, 0, g.width);
      const y = uniform(rand, 0, g.height);
      if (dermis(x, y)) b.nucleus(nucleusAt(b, x, y, uniform(rand, 6, 11), 4, ang + 0.3 * gaussianRandom(rand), 0.45));
    }
    const rbc: [number, number][] = [];
    for (let k = 0; k < Math.max(1, Math.round(areaUm2 / 5000)); k++) {
      const x = uniform(rand, 0, g.width);
      const y = uniform(rand, 0, g.height);
      if (!dermis(x, y)) continue;
      const vr = px(g, uniform(rand, 5, 12));
      for (let j = 0; j < Math.round(uniform(rand, 3, 10)); j++) rbc.push([x + vr * 0.5 * gaussianRandom(rand), y + vr * 0.5 * gaussianRandom(rand)]);
      const wall = { cx: x, cy: y, a: vr * 1.3, b: vr * 1.1, angle: 6 * rand() };
      // endothelial nuclei around the lumen
      for (let j = 0; j < 4; j++) {
        const th = (j * Math.PI) / 2 + rand();
        b.nucleus(nucleusAt(b, x + wall.a * Math.cos(th), y + wall.b * Math.sin(th), 6, 3.5, th + Math.PI / 2, 0.45));
      }
    }
    b.redCells(rbc);
    return b.finish();
  },
};

export const BRIGHTFIELD_FAMILIES: BrightfieldFamily[] = [heGlandFamily, heSkinFamily];
