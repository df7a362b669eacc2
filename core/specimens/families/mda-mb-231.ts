/**
 * `mda-mb-231`: MDA-MB-231-like breast cancer cells as VirFluoNet imaged them (60×/1.25 oil;
 * paper 003, Methods): phase contrast, DAPI, F-actin (phalloidin) and vinculin, one geometry.
 *
 * - Phase contrast from an optical-path-difference map OPD = Σ Δn·thickness: cytoplasm
 *   (Δn 0.02, 0.3–2.5 µm thick, thinning to the edge), nucleus (Δn 0.03, a 3–5 µm dome),
 *   nucleoli (Δn +0.02). Focal adhesions and stress fibres add nothing to the OPD. Positive
 *   phase contrast: I = 1 − α·(φ − G_σ ⊗ φ), φ = 2π·OPD/λ, α = 0.25/rad, σ = 2 µm (the halo);
 *   so phase contrast shows nuclei and outlines but not the adhesions.
 * - F-actin: 8–25 stress fibres per cell along its long axis, ending 0.5 µm inside the
 *   contour, plus a cortical rim.
 * - Vinculin: an elongated plaque (1–3 µm × 0.5 µm, along the fibre) at both ends of each
 *   fibre that ends within 2 µm of the contour, plus a dim cytoplasm.
 * Reading's assumption: 0.2 µm px (the paper's 0.1075 µm would need 3.5× more pixels per cell).
 */
import { cellLabels, nucleusLabels, paintBlob, paintLine, placeCells, stressFibres } from '../cells.js';
import { px } from '../family.js';
import { blur, ellipseRadius, noiseField, uniform } from '../field.js';
import type { MultiChannelFamily, MultiChannelTruth } from '../multichannel.js';

const PHASE_ALPHA = 0.25;
const HALO_SIGMA_UM = 2;
const PHC_WAVELENGTH_UM = 0.55;

export const mdaMb231Family: MultiChannelFamily = {
  name: 'mda-mb-231',
  description: 'MDA-MB-231-like cells at 60×/1.25 oil: phase contrast (from an OPD map), DAPI, F-actin (stress fibres), vinculin (plaques at fibre ends)',
  channels: [
    { name: 'PhC', kind: 'phase-contrast', stains: 'none (positive phase contrast)', shows: 'optical path difference: nuclei, outlines', wavelengthUm: PHC_WAVELENGTH_UM },
    { name: 'DAPI', kind: 'fluorescence', stains: 'DAPI', shows: 'nucleus', wavelengthUm: 0.461, excitationUm: 0.358 },
    { name: 'F-actin', kind: 'fluorescence', stains: 'phalloidin', shows: 'stress fibres, cortical actin', wavelengthUm: 0.565, excitationUm: 0.54 },
    { name: 'vinculin', kind: 'fluorescence', stains: 'anti-vinculin (VLN01) + secondary', shows: 'focal adhesions', wavelengthUm: 0.52, excitationUm: 0.495 },
  ],
  defaults: { pixelSizeUm: 0.2, na: 1.25, refractiveIndex: 1.515 },
  params: {
    cellDensity: { min: 1, max: 4, description: 'cells per 10⁴ µm²' },
    cellRadiusUm: { min: 10, max: 22, description: 'mean cell radius R, µm' },
    fibresPerCell: { min: 8, max: 25, integer: true, description: 'stress fibres per cell' },
  },
  render(g, p, rand) {
    const { width: W, height: H } = g;
    const n = W * H;
    const count = Math.max(1, Math.round((p.cellDensity * W * H * g.pixelSizeUm ** 2) / 1e4));
    const R = px(g, p.cellRadiusUm);
    const cells = placeCells({ width: W, height: H, count, radiusPx: [0.75 * R, 1.25 * R], elongation: [1.3, 2.6], wobble: 0.15, nucleusFraction: [0.25, 0.35] }, rand);
    const own = cellLabels(cells, W, H);
    const nuc = nucleusLabels(cells, own.labels, W, H);
    const gains = cells.map(() => [0, 1, 2, 3].map(() => uniform(rand, 0.6, 1.4)));
    const chromatin = noiseField(W, H, px(g, 0.4), rand).data;
    const actin = new Float32Array(n);
    const vinculin = new Float32Array(n);
    const nucleoli = new Float32Array(n);
    const fibres = cells.flatMap((c, k) => stressFibres(c, k + 1, p.fibresPerCell, 0.3, px(g, 0.5), rand));
    const plaques: MultiChannelTruth['plaques'] = [];
    fibres.forEach((f, j) => {
      paintLine(actin, W, H, f, Math.max(0.6, px(g, 0.15)), f.weight, { labels: own.labels, owner: f.cell });
      const angle = Math.atan2(f.y1 - f.y0, f.x1 - f.x0);
      for (const [x, y] of [[f.x0, f.y0], [f.x1, f.y1]]) {
        // distance to the contour along the fibre direction (both ways), µm
        let t = 0;
        const dir = x === f.x0 && y === f.y0 ? -1 : 1;
        while (t < px(g, 5) && (() => {
          const xx = x + dir * t * Math.cos(angle);
          const yy = y + dir * t * Math.sin(angle);
          const xi = Math.round(xx);
          const yi = Math.round(yy);
          return xi >= 0 && yi >= 0 && xi < W && yi < H && own.labels[yi * W + xi] === f.cell;
        })()) t += 0.5;
        if (t * g.pixelSizeUm > 2) continue;
        const lenUm = uniform(rand, 1, 3);
        paintBlob(vinculin, W, H, x, y, Math.max(0.7, px(g, lenUm / 4)), Math.max(0.5, px(g, 0.2)), angle, uniform(rand, 0.6, 1) * gains[f.cell - 1][3]);
        plaques.push({ x, y, angle, cell: f.cell, fibre: j });
      }
    });
    cells.forEach((c) => {
      const nu = c.nucleus;
      for (let j = 0, m = Math.round(uniform(rand, 1, 3)); j < m; j++) {
        const rr = 0.5 * Math.sqrt(rand());
        const aa = uniform(rand, 0, 2 * Math.PI);
        paintBlob(nucleoli, W, H, nu.cx + rr * nu.a * Math.cos(aa + nu.angle), nu.cy + rr * nu.b * Math.sin(aa + nu.angle), px(g, 0.6), px(g, 0.6), 0, 1);
      }
    });
    const phase = { width: W, height: H, data: new Float32Array(n) };
    const dapi = new Float32Array(n);
    const factin = new Float32Array(n);
    const vin = new Float32Array(n);
    const nucThick = cells.map(() => uniform(rand, 3, 5));
    for (let i = 0; i < n; i++) {
      const k = own.labels[i];
      if (k === 0) continue;
      const x = i % W;
      const y = (i - x) / W;
      const c = cells[k - 1];
      const gk = gains[k - 1];
      const edgeUm = (1 - own.radius[i]) * c.radiusPx * g.pixelSizeUm;
      const cytoThickUm = 0.3 + 2.2 * (1 - Math.exp(-edgeUm / 4));
      let opd = 0.02 * cytoThickUm;
      if (nuc.labels[i] === k) {
        const rn = ellipseRadius(c.nucleus, x, y);
        const dome = Math.sqrt(Math.max(0, 1 - rn * rn));
        opd += 0.03 * nucThick[k - 1] * dome + 0.02 * Math.min(1, nucleoli[i]);
        const soft = Math.min(1, ((1 - rn) * c.nucleus.a * g.pixelSizeUm) / 0.3);
        dapi[i] = gk[1] * soft * (0.8 + 0.2 * Math.max(-2, Math.min(2, chromatin[i]))) * (1 - 0.5 * Math.min(1, nucleoli[i]));
      }
      phase.data[i] = (2 * Math.PI * opd) / PHC_WAVELENGTH_UM;
      const cortex = Math.exp(-((edgeUm / 0.6) ** 2));
      factin[i] = gk[2] * (Math.min(1.5, actin[i]) + 0.4 * cortex + 0.05);
      vin[i] = vinculin[i] + gk[3] * 0.06;
    }
    // positive phase contrast with a halo: I = 1 − α·(φ − G_σ ⊗ φ)
    const smooth = blur({ width: W, height: H, data: Float32Array.from(phase.data) }, px(g, HALO_SIGMA_UM)).data;
    const phc = new Float32Array(n);
    for (let i = 0; i < n; i++) phc[i] = Math.max(0.05, 1 - PHASE_ALPHA * (phase.data[i] - smooth[i]));
    return {
      objects: [phc, dapi, factin, vin],
      truth: { cellLabels: own.labels, nucleusLabels: nuc.labels, fibres, plaques, stainGain: gains },
    };
  },
};
