import { defineOperation, FocalError, z } from '../../../core/index.js';
import { checkPair, dimShotWarning, focusGateToleranceUm, refocusPair, shotsFromStack, whiteLevelOf } from '../refocus.js';
import { focusEstimator, logShotOffset, modelParams, openModel, pixelGrid, rgbStack } from './common.js';

export const refocus = defineOperation({
  id: 'tsva.refocus',
  title: 'TSVA two-shot refocus',
  description:
    'Two-shot virtual autofocusing (TSVA): a network fuses two defocused shots of a brightfield tile, taken at F − s and F + s around the initial focal position F, into the in-focus tile. Y1 is the sharper shot by the Brenner gradient (unless order is as-given); both shots are processed in identical overlapping tiles with blended seams. RGB or grey shots (uint8, uint16 or [0, 1] float); the output is RGB, uint8 by default. The bundled demo model was trained on simulated sections only (0.325 µm px, 0.75 NA, shots at F ± 0.5 µm; H&E and, on half the tiles, other stains, 1–5 µm thick, some under a uniform absorber): on a real IHC image it is +0.5 dB above the sharper shot, on a dark, flat grey cell image level with it (plugins/tsva/docs/tsva.md); guard consistency limits damage on images unlike the training data. Shots whose calibration gives another pixel size are refocused on the model\'s pixel grid (resample). With gate focus (the default; not the paper) a Y1 that the two shots put in focus is returned as it is. The log gives the focus error |ΔD| estimated from the two shots\' spectra, and warns when it is beyond the range the model was trained on.',
  inputs: {
    y1: { type: 'stack', description: 'One shot of the tile (RGB or grey, one plane)' },
    y2: { type: 'stack', description: 'The other shot of the same tile, same size' },
  },
  outputs: { image: { type: 'stack', description: 'RGB (uint8, or float32 in [0, 1]): the recovered in-focus tile' } },
  params: z.strictObject({ ...modelParams }),
  async run(ctx, { y1, y2 }, params) {
    const [a] = shotsFromStack(y1, 'y1', params.whiteLevel);
    const [b] = shotsFromStack(y2, 'y2', params.whiteLevel);
    if (y1.sizeZ !== 1) throw new FocalError('E_PORT', `y1: has ${y1.sizeZ} planes; give one shot (use tsva.slide for a two-shot acquisition of many tiles)`, { field: 'y1' });
    if (y2.sizeZ !== 1) throw new FocalError('E_PORT', `y2: has ${y2.sizeZ} planes; give one shot`, { field: 'y2' });
    checkPair(a, b);
    for (const [shot, field, stack] of [[a, 'y1', y1], [b, 'y2', y2]] as const) {
      const warning = dimShotWarning(shot, field, whiteLevelOf(stack, params.whiteLevel));
      if (warning) ctx.log.warn(warning);
    }
    const m = await openModel(params);
    try {
      ctx.log.debug('tsva.refocus', { model: m.name, arch: m.meta.arch, shotOffsetUm: m.meta.protocol.shotOffsetUm });
      const grid = pixelGrid(y1.calibration ?? y2.calibration, y1.calibration ? 'y1' : 'y2', m, params.resample ?? 'auto');
      if (grid.message) ctx.log[grid.message.level](grid.message.text);
      if (params.shotOffsetUm === undefined) logShotOffset(ctx, m);
      // the focus error from the two shots' spectra, taking y1 as the shot at F − s (which it was
      // is not known here: the size is, and the gate needs no more)
      const focus = focusEstimator(m, y1.calibration ?? y2.calibration, a.width, a.height, params.shotOffsetUm)?.estimate(a.hwc, b.hwc, a.width, a.height, 3, ctx.signal);
      const gate = params.gate === 'focus' && focus && Number.isFinite(focus.deltaDUm) ? { gate: { deltaDUm: focus.deltaDUm, shotOffsetUm: params.shotOffsetUm ?? m.meta.protocol.shotOffsetUm, toleranceUm: focusGateToleranceUm(m.meta.optics) } } : {};
      const r = await refocusPair(a, b, m.engine, { tilePx: m.tilePx, haloPx: m.haloPx, multipleOf: m.multipleOf, arch: m.meta.arch, order: params.order ?? 'brenner', guard: params.guard ?? 'off', scale: grid.scale, ...gate, signal: ctx.signal, onProgress: (f) => ctx.progress(f) });
      ctx.log.info(`Y1 = ${r.firstIsY1 ? 'y1' : 'y2'} (Brenner ${r.brennerA.toExponential(3)} vs ${r.brennerB.toExponential(3)})`);
      if (r.gateWeight !== undefined && r.gateWeight < 1) ctx.log.info(r.gateWeight === 0 ? 'gate focus: Y1 is in focus and returned as it is' : `gate focus: Y1 is near focus; the network's output kept at weight ${r.gateWeight.toFixed(2)}`);
      if (focus && Number.isFinite(focus.deltaDUm)) {
        const size = Math.abs(Math.round(focus.deltaDUm * 10) / 10);
        const max = m.meta.protocol.deltaDMaxUm;
        if (size > max) ctx.log.warn(`the two shots put the tile about ${size.toFixed(1)} µm from focus, beyond the ±${max} µm ${m.name} was trained on: the result is unreliable; acquire the shots nearer focus`);
        else ctx.log.info(`focus error estimated from the two shots: |ΔD| ≈ ${size.toFixed(1)} µm (the model was trained to ±${max} µm)`);
      }
      return { image: rgbStack(r.hwc, a.width, a.height, params.outputType ?? 'uint8', y1.calibration) };
    } finally {
      await m.engine.dispose();
    }
  },
});
