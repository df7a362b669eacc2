import { createTable, defineOperation, z } from '../../../core/index.js';
import { COARSE_MAP, FINE_MAP, focalSurface, interpolateFocusMap, measureFocusMap, PAPER_SCAN, timingModel, type SlideSpec } from '../slide.js';

export const slide = defineOperation({
  id: 'staining.slide',
  title: 'Slide focus simulation and scan-time model',
  description:
    "Simulates a multi-field slide over a smooth focal surface, measures a fine focus map (8.5 % of fields, ±0.35 µm, 33 s per point) and a coarse one (2.1 %, ±0.83 µm, 15 s per point), interpolates each bilinearly and gives every field's residual defocus; and the paper's scan-time model (time = fields × time per field + focus points × time per point) for an area, with the cascade's inference time per field added to the coarse scan.",
  inputs: {},
  outputs: {
    fields: { type: 'table', description: 'One row per field: fx, fy, surfaceUm, fineDefocusUm, coarseDefocusUm (true surface − map at the field centre), fineFocusPoint, coarseFocusPoint (1 where the map measured)' },
    timing: { type: 'table', description: 'One row per focus map: map, fields, focusPoints, autofocusMin, scanMin, inferenceMin, totalMin' },
  },
  params: z.strictObject({
    fieldsX: z.number().int().min(1).max(1000).default(16).describe('Fields across the slide'),
    fieldsY: z.number().int().min(1).max(1000).default(13).describe('Fields down the slide'),
    fieldPx: z.number().int().min(8).max(16384).default(2048).describe('Field side, px'),
    pixelSizeUm: z.number().positive().max(100).default(0.1625).describe('Pixel size, µm'),
    surfaceAmplitudeUm: z.number().min(0).max(100).default(6).describe('Peak-to-peak amplitude of the focal surface, µm'),
    seed: z.number().int().min(0).max(4294967295).default(1).describe('Seed of the surface and of the focus-point errors'),
    areaMm2: z.number().positive().max(10000).default(PAPER_SCAN.areaMm2).describe('Scanned area for the timing model, mm² (paper: ~23 mm² per biopsy)'),
    cascadeSecondsPerField: z.number().min(0).max(86400).default(0).describe("Measured cascade inference time per field, s (Focal's bench: plugins/staining/bench.ts), added to the coarse scan"),
  }),
  run(ctx, _inputs, p) {
    const s: SlideSpec = { fieldsX: p.fieldsX, fieldsY: p.fieldsY, fieldPx: p.fieldPx, pixelSizeUm: p.pixelSizeUm, surfaceAmplitudeUm: p.surfaceAmplitudeUm, seed: p.seed };
    const surface = focalSurface(s);
    const fine = measureFocusMap(s, FINE_MAP, p.seed + 1);
    const coarse = measureFocusMap(s, COARSE_MAP, p.seed + 2);
    const fz = interpolateFocusMap(fine, s);
    const cz = interpolateFocusMap(coarse, s);
    const fieldUm = p.fieldPx * p.pixelSizeUm;
    // which fields hold a focus point, as a set (a scan of the points per field is quadratic in the field count)
    const measured = (m: typeof fine) => new Set(m.points.map((q) => q.fy * p.fieldsX + q.fx));
    const finePoints = measured(fine);
    const coarsePoints = measured(coarse);
    const rows: { fx: number; fy: number; surfaceUm: number; fineDefocusUm: number; coarseDefocusUm: number; fineFocusPoint: number; coarseFocusPoint: number }[] = [];
    for (let fy = 0; fy < p.fieldsY; fy++) for (let fx = 0; fx < p.fieldsX; fx++) {
      const x = (fx + 0.5) * fieldUm;
      const y = (fy + 0.5) * fieldUm;
      const z0 = surface(x, y);
      rows.push({ fx, fy, surfaceUm: z0, fineDefocusUm: z0 - fz(x, y), coarseDefocusUm: z0 - cz(x, y), fineFocusPoint: finePoints.has(fy * p.fieldsX + fx) ? 1 : 0, coarseFocusPoint: coarsePoints.has(fy * p.fieldsX + fx) ? 1 : 0 });
    }
    const rms = (k: 'fineDefocusUm' | 'coarseDefocusUm') => Math.sqrt(rows.reduce((a, r) => a + r[k] ** 2, 0) / rows.length);
    ctx.log.info(`focus points: fine ${fine.points.length}, coarse ${coarse.points.length} of ${rows.length} fields; rms residual defocus fine ${rms('fineDefocusUm').toFixed(2)} µm, coarse ${rms('coarseDefocusUm').toFixed(2)} µm`);
    const timing = timingModel({ areaMm2: p.areaMm2, fieldSideUm: fieldUm, cascadeSecondsPerField: p.cascadeSecondsPerField });
    ctx.progress(1);
    return {
      fields: createTable(['fx', 'fy', 'surfaceUm', 'fineDefocusUm', 'coarseDefocusUm', 'fineFocusPoint', 'coarseFocusPoint'], rows),
      timing: createTable(['map', 'fields', 'focusPoints', 'autofocusMin', 'scanMin', 'inferenceMin', 'totalMin'], timing as unknown as Record<string, number | string>[]),
    };
  },
});
