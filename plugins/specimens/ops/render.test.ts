import { describe, expect, it } from 'vitest';
import { PluginRegistry, runOp, type Stack } from '../../../core/index.js';
import { FAMILIES } from '../../../core/specimens.js';
import { specimensPlugin } from '../index.js';

describe('specimens.render op', () => {
  it('is registered, lists every family, and renders fluorescence and layered brightfield', async () => {
    const registry = new PluginRegistry();
    registry.registerPlugin(specimensPlugin);
    const op = registry.get('specimens.render')!;
    for (const f of FAMILIES) expect(op.manifest.description).toContain(f.name);
    const fl = (await runOp(specimensPlugin.operations[0], {}, { family: 'cells', sizePx: 64, seed: 2, peakPhotons: 500 })) as { image: Stack };
    expect(fl.image.sizeC).toBe(1);
    expect(fl.image.calibration.pixelWidthUm).toBe(0.325);
    const bf = (await runOp(specimensPlugin.operations[0], {}, { family: 'he-gland', sizePx: 64, seed: 2, params: { layers: 5, thicknessUm: 4 } })) as { image: Stack; layers: Stack };
    expect(bf.image.sizeC).toBe(3);
    expect(bf.layers.sizeC).toBe(2);
    expect(bf.layers.sizeZ).toBe(5);
    expect(bf.layers.calibration.zStepUm).toBeCloseTo(0.8, 9);
    expect(bf.layers.channelNames).toEqual(['hematoxylin', 'eosin']);
  });
});
