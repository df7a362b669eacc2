import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createStack, defineOperation, FocalError, planeIndex, z } from '../../../core/index.js';
import { createInferenceEngine, inferenceWorkingBytes, pixelSizeMismatch, resolveModelDir, tiledInferenceStreaming } from '../../../core/ml.js';
import { generatorActivationFloats, VirFluoNetSchema } from '../model.js';
import { loadVirFluoNetPackage } from '../package.js';
import { predictField, selectChannels } from '../predict.js';

export const DEMO_MODEL = 'virfluonet-cp-cy5';

export const predict = defineOperation({
  id: 'virfluonet.predict',
  title: 'VirFluoNet virtual staining',
  description:
    "Predicts one fluorescence channel from other channels (or phase contrast) of the same field with a VirFluoNet cGAN generator: the model's input channels are picked from the stack by name (or params.channels), mapped to [−1, 1] with the package's per-channel maps, predicted in overlapping tiles blended with raised-cosine weights (any field size), and mapped back to the target channel's units. A model in autofocus mode (one channel → the same channel in focus) runs the same way.",
  inputs: { image: { type: 'stack', description: "Multi-channel field (one z/t plane) holding the model's input channels" } },
  outputs: { image: { type: 'stack', description: 'The predicted channel, one plane, named after the target (uint16 ADU or float32)' } },
  params: z.strictObject({
    model: z.string().min(1).default(DEMO_MODEL).describe(`VirFluoNet model package folder, or the name of a bundled model (default '${DEMO_MODEL}': TxRed + Cy3 → Cy5 mitochondria)`),
    channels: z.array(z.number().int().min(0).max(1023)).max(64).optional().describe("Stack channel index of each model input, in the model's order (default: by channel name, or in order when the stack has exactly the model's channel count)"),
    tileSize: z.number().int().positive().max(65536).optional().describe("Tile side, px (a multiple of the model's multipleOf); default: the package's tilePx"),
    overlapPx: z.number().int().nonnegative().max(32768).optional().describe("Halo of context on each tile side, px (blended seams); default: the package's haloPx"),
    engine: z.enum(['auto', 'onnxruntime', 'tfjs']).default('auto').describe("Inference engine: 'auto' (onnxruntime when the package has ONNX weights, else tfjs)"),
    outputType: z.enum(['uint16', 'float32']).default('uint16').describe("Pixel type: 'uint16' (rounded and clipped, like the camera) or 'float32'"),
  }),
  // The package's fixed per-channel maps normalise any piece as the whole field, so a streamed run
  // tiles always, with every channel of a tile together: pieces start on the network tiles' step
  // and reach one tile past what they keep, so they run the whole field's tiles (exact).
  tiling(params, input) {
    const dir = resolveModelDir(params.model ?? DEMO_MODEL);
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { tilePx: number; haloPx: number; multipleOf?: number; extra?: { virfluonet?: { target?: { name?: string }; net?: unknown } } };
    const tilePx = params.tileSize ?? m.tilePx;
    const haloPx = params.overlapPx ?? m.haloPx;
    const multipleOf = m.multipleOf ?? 1;
    if (tilePx % multipleOf !== 0 || 2 * haloPx >= tilePx || input.sizeC === 0) return undefined; // run() says what is wrong
    const target = m.extra?.virfluonet?.target?.name;
    // the network's session and one network tile's tensors (bench/network-memory.ts)
    const net = VirFluoNetSchema.safeParse(m.extra?.virfluonet?.net);
    const workingBytes = inferenceWorkingBytes({ activationFloats: net.success ? generatorActivationFloats(net.data) : 0, tilePx });
    return { ...tiledInferenceStreaming({ tilePx, haloPx, multipleOf }), dtype: params.outputType ?? 'uint16', channels: 'together', outputChannels: 1, workingBytes, ...(target ? { outputChannelNames: [target] } : {}) };
  },
  async run(ctx, { image }, params) {
    if (image.sizeZ * image.sizeT !== 1) throw new FocalError('E_PORT', `image: has ${image.sizeZ} z × ${image.sizeT} t planes per channel; give one field (one plane per channel)`, { field: 'image' });
    const { pkg, meta } = await loadVirFluoNetPackage(resolveModelDir(params.model ?? DEMO_MODEL));
    const inputs = meta.inputs.map((c) => c.name);
    const idx = selectChannels(image, inputs, 'image', params.channels);
    const m = pkg.manifest;
    const mismatch = pixelSizeMismatch(image.calibration, m, 'image');
    if (mismatch) ctx.log.warn(mismatch);
    const multipleOf = m.multipleOf ?? 1;
    const tilePx = params.tileSize ?? m.tilePx;
    const haloPx = params.overlapPx ?? m.haloPx;
    if (tilePx % multipleOf !== 0) throw new FocalError('E_PARAMS', `tileSize: ${tilePx} px is not a multiple of ${multipleOf} (the model's)`, { field: 'tileSize' });
    if (2 * haloPx >= tilePx) throw new FocalError('E_PARAMS', `overlapPx: ${haloPx} px leaves nothing of a ${tilePx}-px tile (needs 2·overlapPx < tileSize)`, { field: 'overlapPx' });
    const planes = idx.map((c) => Float32Array.from(image.planes[planeIndex(image, c, 0, 0)]));
    const engine = await createInferenceEngine(pkg, { engine: params.engine ?? 'auto' });
    try {
      ctx.log.debug('virfluonet.predict', { model: m.name, inputs, channels: idx, target: meta.target.name });
      const out = await predictField(planes, image.width, image.height, meta, engine, { tilePx, haloPx, multipleOf, signal: ctx.signal, onProgress: (f) => ctx.progress(f), keep: ctx.keep });
      const dtype = params.outputType ?? 'uint16';
      const plane = dtype === 'uint16' ? Uint16Array.from(out, (v) => Math.min(65535, Math.max(0, Math.round(v)))) : out;
      return { image: createStack({ width: image.width, height: image.height, dtype, planes: [plane], channelNames: [meta.target.name], calibration: image.calibration, metadata: { virfluonet: { model: m.name, version: m.version, inputs, target: meta.target.name } } }) };
    } finally {
      await engine.dispose();
    }
  },
});
