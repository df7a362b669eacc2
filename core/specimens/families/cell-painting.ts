/**
 * `cell-painting`: U2OS-like fields stained with the Cell Painting protocol (Bray et al.) as
 * VirFluoNet used them (paper 003, Methods "U2OS-CPS"): six stains in five channels, eight
 * structures, all drawn from one cell geometry per field (plugins/specimens/docs/specimens.md).
 *
 * | channel (ex/em nm) | stain | structures (weights) |
 * |---|---|---|
 * | DAPI (387/447) | Hoechst 33342 | nucleus: chromatin texture, nucleoli excluded |
 * | GFP (472/520) | concanavalin A / AF488 | endoplasmic reticulum (reticular, random per cell, density falling from the envelope) + nuclear envelope |
 * | Cy3 (531/593) | SYTO 14 | 1.0·nucleoli + 0.4·cytoplasmic RNA + 0.1·nucleoplasm |
 * | Texas Red (562/642) | WGA / AF594 + phalloidin / AF594 | 0.6·Golgi + 0.4·plasma membrane + 0.8·F-actin (stress fibres + cortex) |
 * | Cy5 (628/692) | MitoTracker Deep Red | tubular mitochondria, denser near the nucleus |
 *
 * Each cell multiplies each channel by its own staining gain U(0.6, 1.4), independent between
 * channels. The ER's and the mitochondria's fine patterns are random per cell: only their
 * envelope, density and the cell's extent follow from the other channels.
 */
import { cellLabels, nucleusLabels, paintBlob, paintLine, placeCells, stressFibres } from '../cells.js';
import { px } from '../family.js';
import { blur, deposit, ellipseRadius, newField, noiseField, uniform, walk } from '../field.js';
import type { MultiChannelFamily } from '../multichannel.js';

export const cellPaintingFamily: MultiChannelFamily = {
  name: 'cell-painting',
  description: 'U2OS-like Cell Painting fields: DAPI (nucleus), GFP (ER), Cy3 (nucleoli + RNA), Texas Red (Golgi + membrane + F-actin), Cy5 (mitochondria), one cell geometry per field',
  channels: [
    { name: 'DAPI', kind: 'fluorescence', stains: 'Hoechst 33342', shows: 'nucleus (DNA)', wavelengthUm: 0.447, excitationUm: 0.387 },
    { name: 'GFP', kind: 'fluorescence', stains: 'concanavalin A/AlexaFluor 488', shows: 'endoplasmic reticulum', wavelengthUm: 0.52, excitationUm: 0.472 },
    { name: 'Cy3', kind: 'fluorescence', stains: 'SYTO 14', shows: 'nucleoli, cytoplasmic RNA', wavelengthUm: 0.593, excitationUm: 0.531 },
    { name: 'TxRed', kind: 'fluorescence', stains: 'WGA/AlexaFluor 594 + phalloidin/AlexaFluor 594', shows: 'Golgi, plasma membrane, F-actin', wavelengthUm: 0.642, excitationUm: 0.562 },
    { name: 'Cy5', kind: 'fluorescence', stains: 'MitoTracker Deep Red', shows: 'mitochondria', wavelengthUm: 0.692, excitationUm: 0.628 },
  ],
  // 20× air, ImageXpress: 0.645 µm px derived in the reading (6.45 µm camera pixels, 2× binning); NA 0.45 assumed
  defaults: { pixelSizeUm: 0.645, na: 0.45, refractiveIndex: 1 },
  params: {
    cellDensity: { min: 3, max: 8, description: 'cells per 10⁴ µm²' },
    cellRadiusUm: { min: 10, max: 20, description: 'mean cell radius R, µm (each cell within ±30 %)' },
    erLengthUm: { min: 3, max: 10, description: 'decay length of the ER density from the nuclear envelope, µm' },
    mitoPerCell: { min: 40, max: 150, integer: true, description: 'mitochondria (tubules) per cell' },
  },
  render(g, p, rand) {
    const { width: W, height: H } = g;
    const n = W * H;
    const areaUm2 = W * H * g.pixelSizeUm ** 2;
    const count = Math.max(1, Math.round((p.cellDensity * areaUm2) / 1e4));
    const R = px(g, p.cellRadiusUm);
    const cells = placeCells({ width: W, height: H, count, radiusPx: [0.7 * R, 1.3 * R], elongation: [1, 2], wobble: 0.12, nucleusFraction: [0.3, 0.42] }, rand);
    const own = cellLabels(cells, W, H);
    const nuc = nucleusLabels(cells, own.labels, W, H);
    const gains = cells.map(() => [0, 1, 2, 3, 4].map(() => uniform(rand, 0.6, 1.4)));
    // per-field random textures: chromatin (band-pass) and the ER network (ridges of band-pass noise)
    const chromatin = noiseField(W, H, px(g, 0.5), rand).data;
    const erA = noiseField(W, H, px(g, 0.6), rand).data;
    const golgi = new Float32Array(n);
    const nucleoli = new Float32Array(n);
    const actin = new Float32Array(n);
    const mito = newField(W, H);
    const fibres = cells.flatMap((c, k) => stressFibres(c, k + 1, Math.round(uniform(rand, 5, 20)), 0.25, px(g, 0.8), rand));
    for (const f of fibres) paintLine(actin, W, H, f, Math.max(0.5, px(g, 0.25)), f.weight, { labels: own.labels, owner: f.cell });
    cells.forEach((c, k) => {
      const nu = c.nucleus;
      const rn = (nu.a + nu.b) / 2;
      // nucleoli: 1–4 blobs of 1–2 µm inside the nucleus
      const nn = Math.round(uniform(rand, 1, 4));
      for (let j = 0; j < nn; j++) {
        const rr = 0.55 * Math.sqrt(rand());
        const aa = uniform(rand, 0, 2 * Math.PI);
        const u = rr * nu.a * Math.cos(aa);
        const v = rr * nu.b * Math.sin(aa);
        const s = px(g, uniform(rand, 1, 2)) * 0.35;
        paintBlob(nucleoli, W, H, nu.cx + u * Math.cos(nu.angle) - v * Math.sin(nu.angle), nu.cy + u * Math.sin(nu.angle) + v * Math.cos(nu.angle), Math.max(0.6, s), Math.max(0.6, s), 0, 1);
      }
      // Golgi: a crescent of 5–15 blobs within 5 µm of the envelope on one side
      const gamma = uniform(rand, 0, 2 * Math.PI);
      const ng = Math.round(uniform(rand, 5, 15));
      for (let j = 0; j < ng; j++) {
        const a = gamma + uniform(rand, -0.7, 0.7);
        // the envelope along a: march out of the nucleus
        let t = 0;
        while (t < 3 * rn && ellipseRadius(nu, nu.cx + t * Math.cos(a), nu.cy + t * Math.sin(a)) < 1) t += 0.5;
        t += px(g, uniform(rand, 0.5, 4));
        const s = Math.max(0.6, px(g, uniform(rand, 0.4, 0.8)));
        const x = nu.cx + t * Math.cos(a);
        const y = nu.cy + t * Math.sin(a);
        const xi = Math.round(x);
        const yi = Math.round(y);
        if (xi >= 0 && yi >= 0 && xi < W && yi < H && own.labels[yi * W + xi] === k + 1) paintBlob(golgi, W, H, x, y, s * uniform(rand, 1, 2), s, a + Math.PI / 2, uniform(rand, 0.6, 1));
      }
      // mitochondria: tubules (worm-like walks of 1–5 µm) starting with a density falling from the nucleus
      const e = Math.max(nu.a, nu.b);
      let placed = 0;
      for (let tries = 0; placed < p.mitoPerCell && tries < 20 * p.mitoPerCell; tries++) {
        const x = uniform(rand, c.cx - 1.6 * c.radiusPx, c.cx + 1.6 * c.radiusPx);
        const y = uniform(rand, c.cy - 1.6 * c.radiusPx, c.cy + 1.6 * c.radiusPx);
        const xi = Math.round(x);
        const yi = Math.round(y);
        if (xi < 0 || yi < 0 || xi >= W || yi >= H) continue;
        const i = yi * W + xi;
        if (own.labels[i] !== k + 1 || nuc.labels[i] === k + 1) continue;
        const dUm = Math.max(0, (ellipseRadius(nu, x, y) - 1) * e) * g.pixelSizeUm;
        if (rand() > Math.exp(-dUm / 8)) continue;
        placed++;
        walk(x, y, uniform(rand, 0, 2 * Math.PI), px(g, uniform(rand, 1, 5)), px(g, 3), rand, (wx, wy) => {
          const wi = Math.round(wy) * W + Math.round(wx);
          if (wx < 0 || wy < 0 || wx > W - 1 || wy > H - 1 || own.labels[wi] !== k + 1 || nuc.labels[wi] === k + 1) return;
          deposit(mito, wx, wy, 1);
        }, Math.max(0.25, px(g, 0.2)));
      }
    });
    blur(mito, Math.max(0.4, px(g, 0.2)));
    const dapi = new Float32Array(n);
    const gfp = new Float32Array(n);
    const cy3 = new Float32Array(n);
    const txred = new Float32Array(n);
    const cy5 = new Float32Array(n);
    const rimUm = 0.6;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const i = y * W + x;
        const k = own.labels[i];
        if (k === 0) continue;
        const c = cells[k - 1];
        const gk = gains[k - 1];
        const nu = c.nucleus;
        const e = (nu.a + nu.b) / 2;
        const rn = ellipseRadius(nu, x, y);
        const inNucleus = nuc.labels[i] === k;
        // distance outside the envelope, µm (≤ 0 inside)
        const dUm = (rn - 1) * e * g.pixelSizeUm;
        const envelope = Math.exp(-((dUm / rimUm) ** 2));
        // distance inside the contour, µm
        const edgeUm = (1 - own.radius[i]) * c.radiusPx * g.pixelSizeUm;
        const membrane = Math.exp(-((edgeUm / 0.5) ** 2));
        const cortex = Math.exp(-((Math.max(0, edgeUm - 0.4) / 0.8) ** 2));
        const nucleolus = Math.min(1, nucleoli[i]);
        if (inNucleus) {
          const soft = Math.min(1, (1 - rn) * e * g.pixelSizeUm / 0.4);
          dapi[i] = gk[0] * soft * (0.75 + 0.25 * Math.max(-2, Math.min(2, chromatin[i]))) * (1 - 0.6 * nucleolus);
          cy3[i] = gk[2] * (1.0 * nucleolus + 0.1 * soft);
        } else {
          const density = Math.exp(-Math.max(0, dUm) / p.erLengthUm);
          const net = Math.exp(-((erA[i] / 0.3) ** 2));
          gfp[i] = gk[1] * (0.15 * density + 0.85 * density * net);
          cy3[i] = gk[2] * 0.4 * (0.3 + 0.7 * Math.exp(-Math.max(0, dUm) / 6));
          cy5[i] = gk[4] * mito.data[i];
        }
        gfp[i] += gk[1] * 0.4 * envelope;
        txred[i] = gk[3] * (0.6 * golgi[i] + 0.4 * membrane + 0.8 * (Math.min(1.5, actin[i]) + 0.5 * cortex));
      }
    }
    return {
      objects: [dapi, gfp, cy3, txred, cy5],
      truth: { cellLabels: own.labels, nucleusLabels: nuc.labels, fibres, plaques: [], stainGain: gains },
    };
  },
};
