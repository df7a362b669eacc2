import { describe, expect, it } from 'vitest';
import { isFocalError } from '../errors.js';
import { renderMultiChannel } from './multichannel.js';

function errorOf(f: () => unknown): { code: string; message: string; field?: unknown } {
  try {
    f();
  } catch (e) {
    if (isFocalError(e)) return { code: e.code, message: e.message, field: e.details.field };
    throw e;
  }
  throw new Error('no error thrown');
}

describe('multi-channel specimen families', () => {
  it('cell-painting: the paper\'s five channels with their emission wavelengths, 16 bit, deterministic per seed', () => {
    const a = renderMultiChannel({ family: 'cell-painting', widthPx: 96, heightPx: 96, seed: 3 });
    const b = renderMultiChannel({ family: 'cell-painting', widthPx: 96, heightPx: 96, seed: 3 });
    const c = renderMultiChannel({ family: 'cell-painting', widthPx: 96, heightPx: 96, seed: 4 });
    expect(a.channels.map((ch) => ch.name)).toEqual(['DAPI', 'GFP', 'Cy3', 'TxRed', 'Cy5']);
    expect(a.channels.map((ch) => ch.wavelengthUm)).toEqual([0.447, 0.52, 0.593, 0.642, 0.692]);
    for (const ch of a.channels) expect(ch.image).toBeInstanceOf(Uint16Array);
    a.channels.forEach((ch, k) => expect(Array.from(ch.image)).toEqual(Array.from(b.channels[k].image)));
    expect(Array.from(a.channels[0].image)).not.toEqual(Array.from(c.channels[0].image));
  });

  it('cell-painting: channels share the geometry (DAPI inside nuclei, mitochondria inside cells and outside nuclei)', () => {
    const r = renderMultiChannel({ family: 'cell-painting', widthPx: 128, heightPx: 128, seed: 9, noiseless: true, params: { cellDensity: 6 } });
    const [dapi, , , , cy5] = r.objects;
    const { cellLabels, nucleusLabels } = r.truth;
    let dapiOut = 0;
    let dapiIn = 0;
    let mitoInNucleus = 0;
    let mitoOutside = 0;
    let mito = 0;
    for (let i = 0; i < dapi.length; i++) {
      if (nucleusLabels[i] > 0) dapiIn += dapi[i];
      else dapiOut += dapi[i];
      mito += cy5[i];
      if (nucleusLabels[i] > 0) mitoInNucleus += cy5[i];
      if (cellLabels[i] === 0) mitoOutside += cy5[i];
    }
    expect(dapiIn).toBeGreaterThan(0);
    expect(dapiOut).toBe(0);
    expect(mito).toBeGreaterThan(0);
    // the tubules' blur spills a little over the envelope and the contour, no more
    expect((mitoInNucleus + mitoOutside) / mito).toBeLessThan(0.15);
  });

  it('defocus changes the image, not the cells; the same seed keeps the geometry', () => {
    const a = renderMultiChannel({ family: 'cell-painting', widthPx: 64, heightPx: 64, seed: 2, channels: ['TxRed'] });
    const b = renderMultiChannel({ family: 'cell-painting', widthPx: 64, heightPx: 64, seed: 2, channels: ['TxRed'], defocusUm: 8 });
    expect(Array.from(a.truth.cellLabels)).toEqual(Array.from(b.truth.cellLabels));
    expect(b.channels.map((c) => c.name)).toEqual(['TxRed']);
    const sd = (x: ArrayLike<number>) => {
      let m = 0;
      for (let i = 0; i < x.length; i++) m += x[i] / x.length;
      let s = 0;
      for (let i = 0; i < x.length; i++) s += (x[i] - m) ** 2 / x.length;
      return Math.sqrt(s);
    };
    expect(sd(b.channels[0].image)).toBeLessThan(sd(a.channels[0].image));
  });

  it('mda-mb-231: phase contrast, DAPI, F-actin, vinculin; vinculin plaques sit at stress-fibre ends', () => {
    const r = renderMultiChannel({ family: 'mda-mb-231', widthPx: 160, heightPx: 160, seed: 1, pixelSizeUm: 0.4, noiseless: true, params: { cellDensity: 3 } });
    expect(r.channels.map((c) => c.name)).toEqual(['PhC', 'DAPI', 'F-actin', 'vinculin']);
    expect(r.channels[0].kind).toBe('phase-contrast');
    const { plaques, fibres } = r.truth;
    expect(plaques.length).toBeGreaterThan(4);
    for (const p of plaques) {
      const f = fibres[p.fibre];
      const d = Math.min(Math.hypot(p.x - f.x0, p.y - f.y0), Math.hypot(p.x - f.x1, p.y - f.y1));
      expect(d).toBeLessThan(1e-9);
    }
    // in the image: vinculin at the plaque centres is far above the cells' median vinculin, and far above its value at fibre midpoints
    const vin = r.objects[3];
    const W = r.width;
    const at = (x: number, y: number) => vin[Math.round(y) * W + Math.round(x)];
    const inCells = Array.from(vin).filter((_, i) => r.truth.cellLabels[i] > 0).sort((a, b) => a - b);
    const median = inCells[Math.floor(inCells.length / 2)];
    const inside = plaques.filter((p) => p.x >= 1 && p.y >= 1 && p.x < W - 1 && p.y < r.height - 1);
    expect(inside.length).toBeGreaterThan(3);
    const atPlaques = inside.map((p) => at(p.x, p.y));
    const atMid = inside.map((p) => at((fibres[p.fibre].x0 + fibres[p.fibre].x1) / 2, (fibres[p.fibre].y0 + fibres[p.fibre].y1) / 2));
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(atPlaques)).toBeGreaterThan(4 * median);
    expect(mean(atPlaques)).toBeGreaterThan(3 * mean(atMid));
  });

  it('refuses bad input naming the field', () => {
    expect(errorOf(() => renderMultiChannel({ family: 'cell-painting', widthPx: 64, heightPx: 64, seed: 1, channels: ['FITC'] }))).toMatchObject({ code: 'E_PARAMS', field: 'channels' });
    expect(errorOf(() => renderMultiChannel({ family: 'cell-painting', widthPx: 64, heightPx: 64, seed: 1, channels: ['FITC'] })).message).toContain('FITC');
    expect(errorOf(() => renderMultiChannel({ family: 'nope', widthPx: 64, heightPx: 64, seed: 1 }))).toMatchObject({ field: 'family' });
    expect(errorOf(() => renderMultiChannel({ family: 'mda-mb-231', widthPx: 8, heightPx: 64, seed: 1 }))).toMatchObject({ field: 'widthPx' });
    expect(errorOf(() => renderMultiChannel({ family: 'cell-painting', widthPx: 64, heightPx: 64, seed: 1, params: { mitoPerCell: 1000 } }))).toMatchObject({ field: 'params.mitoPerCell' });
  });
});
