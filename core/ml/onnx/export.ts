/**
 * ONNX exporter for the tf.layers subset Focal's models use (see docs/model-package.md):
 * InputLayer, Conv2D, Conv2DTranspose, LeakyReLU, ReLU, Activation (linear, relu, tanh,
 * sigmoid), Add, Concatenate, MaxPooling2D, UpSampling2D (nearest). Sequential models
 * and functional models (tf.model) are both accepted; nested models are not.
 *
 * tfjs layers are NHWC; ONNX's Conv/MaxPool/Resize are NCHW. The graph transposes its
 * input NHWC → NCHW once, runs every layer in NCHW (kernels are permuted HWIO → OIHW),
 * and transposes the output back, so the ONNX model takes and returns NHWC tensors
 * exactly like the tfjs model (batch, height and width symbolic).
 */
import type * as tfType from '@tensorflow/tfjs';
import { FocalError } from '../../errors.js';
import { encodeModel, floatTensor, DataType, type Attribute, type Node, type Tensor, type ValueInfo } from './proto.js';

/** ONNX opset the exporter targets (Resize-13, Clip-13, Conv-11, ConvTranspose-11, MaxPool-12). */
export const ONNX_OPSET = 13;
/** IR version 8 (ONNX 1.10+), read by onnxruntime ≥ 1.10. */
export const ONNX_IR_VERSION = 8;

/** The tf.layers class names the exporter supports. */
export const ONNX_SUPPORTED_LAYERS: readonly string[] = [
  'InputLayer', 'Conv2D', 'Conv2DTranspose', 'LeakyReLU', 'ReLU', 'Activation', 'Add', 'Concatenate', 'MaxPooling2D', 'AveragePooling2D', 'UpSampling2D',
  'BatchNormalization',
];

export interface ExportOnnxOptions {
  /** Stored in the model's doc_string. */
  docString?: string;
  /** Producer version written into the model (default '0'). */
  producerVersion?: string;
}

type InboundRef = [string, number, number, unknown];
interface LayerEntry {
  name: string;
  className: string;
  config: Record<string, unknown>;
  inboundNodes: InboundRef[][];
}

const NCHW_AXIS_OF_NHWC = [0, 2, 3, 1];

function unsupported(layer: LayerEntry, what: string): FocalError {
  return new FocalError('E_UNSUPPORTED', `ONNX export: layer '${layer.name}' (${layer.className}): ${what}`, { field: layer.name });
}

function pair(v: unknown, fallback: number): [number, number] {
  if (Array.isArray(v)) return [Number(v[0]), Number(v[1] ?? v[0])];
  if (typeof v === 'number') return [v, v];
  return [fallback, fallback];
}

/** Reads the layer graph from a tf.LayersModel's config (functional or Sequential). */
function layerGraph(model: tfType.LayersModel): { layers: LayerEntry[]; inputs: [string, number][]; outputs: [string, number][] } {
  const config = model.getConfig() as unknown as { layers: LayerEntry[]; inputLayers?: [string, number, number][]; outputLayers?: [string, number, number][] };
  if (model.getClassName() === 'Sequential') {
    const entries: LayerEntry[] = [];
    const first = model.layers[0];
    const batchInputShape = (first.batchInputShape ?? model.inputs[0]?.shape) as (number | null)[] | undefined;
    if (!batchInputShape) throw new FocalError('E_UNSUPPORTED', 'ONNX export: the Sequential model has no input shape');
    entries.push({ name: '__input', className: 'InputLayer', config: { batchInputShape }, inboundNodes: [] });
    let prev = '__input';
    for (const l of model.layers) {
      entries.push({ name: l.name, className: l.getClassName(), config: l.getConfig() as Record<string, unknown>, inboundNodes: [[[prev, 0, 0, {}]]] });
      prev = l.name;
    }
    return { layers: entries, inputs: [['__input', 0]], outputs: [[prev, 0]] };
  }
  return {
    layers: config.layers,
    inputs: (config.inputLayers ?? []).map(([n, i]) => [n, i]),
    outputs: (config.outputLayers ?? []).map(([n, i]) => [n, i]),
  };
}

/**
 * Exports a tf.LayersModel to an ONNX ModelProto (bytes). Throws `E_UNSUPPORTED`
 * naming the layer for anything outside the supported set.
 */
export function exportOnnx(model: tfType.LayersModel, options: ExportOnnxOptions = {}): Uint8Array {
  const { layers, inputs, outputs } = layerGraph(model);
  const nodes: Node[] = [];
  const initializers: Tensor[] = [];
  const graphInputs: ValueInfo[] = [];
  const graphOutputs: ValueInfo[] = [];
  /** NCHW value name of each layer's output at each inbound node. */
  const values = new Map<string, string>();
  /** Channel count of each value (NHWC last axis), for the output ValueInfo. */
  const channelsOf = new Map<string, number | string>();
  const key = (layer: string, node: number): string => `${layer}#${node}`;
  let counter = 0;
  const uid = (base: string): string => `${base}_${counter++}`;
  /** A layer applied at several inbound nodes (a shared-weight encoder) stores its weights once. */
  const initNames = new Set<string>();
  const addInit = (name: string, dims: number[], data: Float32Array): string => {
    if (!initNames.has(name)) initializers.push(floatTensor(name, dims, data));
    initNames.add(name);
    return name;
  };

  const weightsOf = (layer: LayerEntry): Float32Array[] => {
    const l = model.getLayer(layer.name);
    return l.getWeights().map((w) => w.dataSync() as Float32Array);
  };
  const weightShapes = (layer: LayerEntry): number[][] => model.getLayer(layer.name).getWeights().map((w) => w.shape);

  const applyActivation = (layer: LayerEntry, activation: unknown, x: string, base: string): string => {
    const act = activation ?? 'linear';
    const out = uid(base);
    switch (act) {
      case 'linear': return x;
      case 'relu': nodes.push({ opType: 'Relu', name: out, inputs: [x], outputs: [out] }); return out;
      case 'tanh': nodes.push({ opType: 'Tanh', name: out, inputs: [x], outputs: [out] }); return out;
      case 'sigmoid': nodes.push({ opType: 'Sigmoid', name: out, inputs: [x], outputs: [out] }); return out;
      default: throw unsupported(layer, `activation '${String(act)}' (supported: linear, relu, tanh, sigmoid)`);
    }
  };

  const checkChannelsLast = (layer: LayerEntry): void => {
    const df = layer.config.dataFormat;
    if (df !== undefined && df !== 'channelsLast') throw unsupported(layer, `dataFormat '${String(df)}' (only channelsLast)`);
  };

  for (const layer of layers) {
    if (layer.className === 'InputLayer') {
      const shape = layer.config.batchInputShape as (number | null)[] | undefined;
      if (!shape || shape.length !== 4) throw unsupported(layer, 'input must be rank 4 (batch, height, width, channels)');
      const single = inputs.length === 1;
      const name = single ? 'input' : layer.name;
      graphInputs.push({
        name,
        elemType: DataType.FLOAT,
        shape: ['N', shape[1] ?? `${name}_H`, shape[2] ?? `${name}_W`, shape[3] ?? `${name}_C`],
      });
      const t = uid(`${layer.name}_nchw`);
      nodes.push({ opType: 'Transpose', name: t, inputs: [name], outputs: [t], attributes: [{ name: 'perm', kind: 'ints', value: [0, 3, 1, 2] }] });
      values.set(key(layer.name, 0), t);
      channelsOf.set(t, shape[3] ?? `${name}_C`);
      continue;
    }
    if (!ONNX_SUPPORTED_LAYERS.includes(layer.className)) {
      throw unsupported(layer, `layer type not supported by the ONNX exporter (supported: ${ONNX_SUPPORTED_LAYERS.join(', ')})`);
    }
    layer.inboundNodes.forEach((inbound, nodeIndex) => {
      const ins = inbound.map(([name, idx, tensorIdx]) => {
        if (tensorIdx !== 0) throw unsupported(layer, 'multi-output inbound layers are not supported');
        const v = values.get(key(name, idx));
        if (v === undefined) throw unsupported(layer, `input '${name}' is not produced by a supported layer before it`);
        return v;
      });
      const base = `${layer.name}${nodeIndex ? `_${nodeIndex}` : ''}`;
      const cfg = layer.config;
      let out: string;
      let channels: number | string = channelsOf.get(ins[0]) ?? 'C';
      switch (layer.className) {
        case 'Conv2D':
        case 'Conv2DTranspose': {
          checkChannelsLast(layer);
          const transpose = layer.className === 'Conv2DTranspose';
          const [kh, kw] = pair(cfg.kernelSize, 1);
          const [sh, sw] = pair(cfg.strides, 1);
          const [dh, dw] = pair(cfg.dilationRate, 1);
          if (dh !== 1 || dw !== 1) throw unsupported(layer, 'dilationRate other than 1');
          const padding = cfg.padding;
          if (padding !== 'same' && padding !== 'valid') throw unsupported(layer, `padding '${String(padding)}'`);
          const w = weightsOf(layer);
          const shapes = weightShapes(layer);
          const [kH, kW, a, b] = shapes[0]; // conv: HWIO; transpose: HW(out)(in)
          const oc = transpose ? a : b;
          // tfjs kernels are [kH, kW, a, b] (conv: a = in, b = out; transpose: a = out, b = in);
          // ONNX wants [b, a, kH, kW] in both cases (Conv: O,I,kH,kW; ConvTranspose: I,O,kH,kW).
          const wt = new Float32Array(a * b * kH * kW);
          const src = w[0];
          for (let y = 0; y < kH; y++) for (let x = 0; x < kW; x++) for (let i = 0; i < a; i++) for (let o = 0; o < b; o++) {
            wt[((o * a + i) * kH + y) * kW + x] = src[((y * kW + x) * a + i) * b + o];
          }
          const wName = addInit(`${layer.name}/W`, [b, a, kH, kW], wt);
          const convIns = [ins[0], wName];
          if (cfg.useBias !== false && w.length > 1) convIns.push(addInit(`${layer.name}/B`, [oc], w[1]));
          const attrs: Attribute[] = [
            { name: 'kernel_shape', kind: 'ints', value: [kH, kW] },
            { name: 'strides', kind: 'ints', value: [sh, sw] },
          ];
          if (!transpose) {
            if (padding === 'valid') attrs.push({ name: 'pads', kind: 'ints', value: [0, 0, 0, 0] });
            else if (sh === 1 && sw === 1) {
              const th = kH - 1;
              const tw = kW - 1;
              attrs.push({ name: 'pads', kind: 'ints', value: [th >> 1, tw >> 1, th - (th >> 1), tw - (tw >> 1)] });
            } else attrs.push({ name: 'auto_pad', kind: 'string', value: 'SAME_UPPER' });
          } else {
            // tf 'same': output = input·stride; the full transposed conv ((in−1)·s + k) is cropped by
            // max(k − s, 0) split floor/ceil (begin/end) — or padded at the end by s − k when k < s.
            const total = padding === 'same' ? [Math.max(kH - sh, 0), Math.max(kW - sw, 0)] : [0, 0];
            attrs.push({ name: 'pads', kind: 'ints', value: [total[0] >> 1, total[1] >> 1, total[0] - (total[0] >> 1), total[1] - (total[1] >> 1)] });
            attrs.push({ name: 'output_padding', kind: 'ints', value: [Math.max(sh - kH, 0), Math.max(sw - kW, 0)] });
          }
          const conv = uid(base);
          nodes.push({ opType: transpose ? 'ConvTranspose' : 'Conv', name: conv, inputs: convIns, outputs: [conv], attributes: attrs });
          out = applyActivation(layer, cfg.activation, conv, `${base}_act`);
          channels = oc;
          break;
        }
        case 'LeakyReLU': {
          out = uid(base);
          const alpha = typeof cfg.alpha === 'number' ? cfg.alpha : 0.3;
          nodes.push({ opType: 'LeakyRelu', name: out, inputs: [ins[0]], outputs: [out], attributes: [{ name: 'alpha', kind: 'float', value: alpha }] });
          break;
        }
        case 'ReLU': {
          out = uid(base);
          const maxValue = cfg.maxValue;
          if (maxValue === null || maxValue === undefined) nodes.push({ opType: 'Relu', name: out, inputs: [ins[0]], outputs: [out] });
          else {
            const lo = addInit(`${layer.name}/min`, [], new Float32Array([0]));
            const hi = addInit(`${layer.name}/max`, [], new Float32Array([Number(maxValue)]));
            nodes.push({ opType: 'Clip', name: out, inputs: [ins[0], lo, hi], outputs: [out] });
          }
          break;
        }
        case 'Activation':
          out = applyActivation(layer, cfg.activation, ins[0], base);
          break;
        case 'Add': {
          out = uid(base);
          nodes.push({ opType: ins.length === 2 ? 'Add' : 'Sum', name: out, inputs: ins, outputs: [out] });
          break;
        }
        case 'Concatenate': {
          const axis = typeof cfg.axis === 'number' ? cfg.axis : -1;
          const nhwc = axis < 0 ? axis + 4 : axis;
          if (nhwc < 1 || nhwc > 3) throw unsupported(layer, `axis ${axis}`);
          out = uid(base);
          nodes.push({ opType: 'Concat', name: out, inputs: ins, outputs: [out], attributes: [{ name: 'axis', kind: 'int', value: NCHW_AXIS_OF_NHWC[nhwc] }] });
          if (nhwc === 3) {
            const cs = ins.map((i) => channelsOf.get(i));
            channels = cs.every((c) => typeof c === 'number') ? (cs as number[]).reduce((s, c) => s + c, 0) : 'C';
          }
          break;
        }
        case 'MaxPooling2D':
        case 'AveragePooling2D': {
          checkChannelsLast(layer);
          const [ph, pw] = pair(cfg.poolSize, 2);
          const [sh, sw] = pair(cfg.strides ?? cfg.poolSize, 2);
          const attrs: Attribute[] = [
            { name: 'kernel_shape', kind: 'ints', value: [ph, pw] },
            { name: 'strides', kind: 'ints', value: [sh, sw] },
          ];
          if (cfg.padding === 'same') attrs.push({ name: 'auto_pad', kind: 'string', value: 'SAME_UPPER' });
          else if (cfg.padding === 'valid' || cfg.padding === undefined) attrs.push({ name: 'pads', kind: 'ints', value: [0, 0, 0, 0] });
          else throw unsupported(layer, `padding '${String(cfg.padding)}'`);
          const average = layer.className === 'AveragePooling2D';
          // tf's average pooling ignores the padding of 'same' windows: count_include_pad 0 (ONNX's default)
          if (average) attrs.push({ name: 'count_include_pad', kind: 'int', value: 0 });
          out = uid(base);
          nodes.push({ opType: average ? 'AveragePool' : 'MaxPool', name: out, inputs: [ins[0]], outputs: [out], attributes: attrs });
          break;
        }
        case 'UpSampling2D': {
          checkChannelsLast(layer);
          const bilinear = cfg.interpolation === 'bilinear';
          if (cfg.interpolation !== undefined && cfg.interpolation !== 'nearest' && !bilinear) throw unsupported(layer, `interpolation '${String(cfg.interpolation)}' (nearest or bilinear)`);
          const [fh, fw] = pair(cfg.size, 2);
          if (!Number.isInteger(fh) || !Number.isInteger(fw)) throw unsupported(layer, 'non-integer size');
          const scales = addInit(`${layer.name}/scales`, [4], new Float32Array([1, 1, fh, fw]));
          out = uid(base);
          nodes.push({
            opType: 'Resize', name: out, inputs: [ins[0], '', scales], outputs: [out],
            // tfjs resizes with alignCorners and halfPixelCenters false: ONNX's 'asymmetric' coordinates
            attributes: bilinear ? [
              { name: 'mode', kind: 'string', value: 'linear' },
              { name: 'coordinate_transformation_mode', kind: 'string', value: 'asymmetric' },
            ] : [
              { name: 'mode', kind: 'string', value: 'nearest' },
              { name: 'coordinate_transformation_mode', kind: 'string', value: 'asymmetric' },
              { name: 'nearest_mode', kind: 'string', value: 'floor' },
            ],
          });
          break;
        }
        case 'BatchNormalization': {
          // inference form: (x − moving mean) / √(moving variance + ε) · γ + β, over the channel axis
          const axis = typeof cfg.axis === 'number' ? cfg.axis : -1;
          if (axis !== -1 && axis !== 3) throw unsupported(layer, `axis ${axis} (only the channel axis, -1)`);
          const w = weightsOf(layer);
          const c = w[w.length - 1].length;
          let i = 0;
          const gamma = cfg.scale !== false ? w[i++] : new Float32Array(c).fill(1);
          const beta = cfg.center !== false ? w[i++] : new Float32Array(c);
          const [mean, variance] = [w[i], w[i + 1]];
          out = uid(base);
          nodes.push({
            opType: 'BatchNormalization', name: out,
            inputs: [ins[0], addInit(`${layer.name}/gamma`, [c], gamma), addInit(`${layer.name}/beta`, [c], beta), addInit(`${layer.name}/mean`, [c], mean), addInit(`${layer.name}/variance`, [c], variance)],
            outputs: [out], attributes: [{ name: 'epsilon', kind: 'float', value: typeof cfg.epsilon === 'number' ? cfg.epsilon : 1e-3 }],
          });
          break;
        }
        default:
          throw unsupported(layer, 'layer type not supported');
      }
      values.set(key(layer.name, nodeIndex), out);
      channelsOf.set(out, channels);
    });
  }

  outputs.forEach(([layerName, nodeIndex]) => {
    const v = values.get(key(layerName, nodeIndex));
    if (v === undefined) throw new FocalError('E_UNSUPPORTED', `ONNX export: output layer '${layerName}' was not exported`, { field: layerName });
    const name = outputs.length === 1 ? 'output' : layerName;
    nodes.push({ opType: 'Transpose', name: uid(`${layerName}_nhwc`), inputs: [v], outputs: [name], attributes: [{ name: 'perm', kind: 'ints', value: [0, 2, 3, 1] }] });
    graphOutputs.push({ name, elemType: DataType.FLOAT, shape: ['N', `${name}_H`, `${name}_W`, channelsOf.get(v) ?? `${name}_C`] });
  });

  return encodeModel({
    irVersion: ONNX_IR_VERSION,
    opset: ONNX_OPSET,
    producerName: 'focal',
    producerVersion: options.producerVersion ?? '0',
    docString: options.docString,
    graph: { name: model.name || 'model', nodes, initializers, inputs: graphInputs, outputs: graphOutputs },
  });
}

