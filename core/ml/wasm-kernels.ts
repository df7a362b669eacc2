/**
 * Training kernels the TensorFlow.js wasm backend lacks, composed from kernels
 * it has (see docs/ml-runtime.md).
 *
 * `@tensorflow/tfjs-backend-wasm` 4.22 implements Conv2D and Conv2DBackpropInput
 * but not Conv2DBackpropFilter, so the gradient of every conv2d (and, through
 * its own gradient, of every conv2dTranspose) with respect to its kernel throws
 * "Cannot find registered kernel 'Conv2DBackpropFilter' for backend 'wasm'".
 * Training a tiny Deep-R U-Net (conv2d 1×1/3×3, maxPooling2d, upSampling2d,
 * conv2dTranspose, concatenate, add, leakyReLU, tanh) on wasm showed that this
 * is the only missing kernel: MaxPoolGrad, ResizeNearestNeighborGrad and the
 * elementwise gradients all exist (see wasm-kernels.test.ts).
 *
 * The filter gradient is one forward convolution: for stride s,
 *   dW[ty, tx, ci, co] = Σ_{n,y,x} Xpad[n, s·y + ty, s·x + tx, ci] · dY[n, y, x, co]
 * is the convolution of the padded input with batch and channels swapped
 * ([Cin, H, W, N], "valid") by the output gradient used as a kernel
 * ([Ho, Wo, N, Cout], dilated by s): XNNPACK's Conv2D, GEMM-backed. An earlier
 * version did one slice and one BatchMatMul per tap: at batch 4 (training) the
 * convolution was 1.2–3.5× faster at stride 1 (up to 26× at stride 2, where the taps
 * need StridedSlice); with one image of ≥ 32 input and output channels the taps were
 * faster (64→64 at 128²: 139 vs 232 ms), so that case keeps them (stride 1 only).
 *
 * wasm's own Conv2DBackpropInput is replaced for stride 1 by one convolution of
 * the output gradient with the spatially flipped, channel-swapped kernel, about
 * 6× faster on the Deep-R generator (docs/ml-runtime.md); other strides keep
 * tfjs's kernel.
 */

type Tf = typeof import('@tensorflow/tfjs');
type Tensor4D = import('@tensorflow/tfjs').Tensor4D;
type TensorInfo = import('@tensorflow/tfjs').TensorInfo;
type KernelConfig = import('@tensorflow/tfjs').KernelConfig;

/** The kernels this module adds to (or, for Conv2DBackpropInput, speeds up in) the wasm backend. */
export const WASM_TRAINING_KERNELS: readonly string[] = ['Conv2DBackpropFilter', 'Conv2DBackpropInput'];

/** Attributes tfjs passes to both convolution gradient kernels. */
interface ConvGradientAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

interface Conv2DBackpropInputAttrs extends ConvGradientAttrs {
  inputShape: [number, number, number, number];
}

interface Conv2DBackpropFilterAttrs extends ConvGradientAttrs {
  filterShape: [number, number, number, number];
}

/**
 * dL/dX of a stride-1, dilation-1 NHWC convolution as one forward convolution: the output
 * gradient convolved with the kernel flipped in space and with its channel axes swapped,
 * padded by (k − 1 − forward padding) on each side. Returns undefined where that padding would
 * be negative (the caller then uses tfjs's own kernel).
 */
export function conv2dBackpropInputAsConv(
  tf: Tf,
  dy: Tensor4D,
  filter: Tensor4D,
  inputShape: [number, number, number, number],
  pad: ConvGradientAttrs['pad'],
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): Tensor4D | undefined {
  const [kh, kw] = filter.shape;
  const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape, 1, 1, pad as never, dimRoundingMode, false, 'channelsLast');
  const { top, left } = info.padInfo;
  const [, hin, win] = inputShape;
  const pt = kh - 1 - top;
  const pl = kw - 1 - left;
  const pb = hin + kh - 1 - info.outHeight - pt;
  const pr = win + kw - 1 - info.outWidth - pl;
  if (pt < 0 || pl < 0 || pb < 0 || pr < 0) return undefined;
  return tf.tidy(() => {
    const w = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as Tensor4D;
    return tf.conv2d(dy, w, 1, [[0, 0], [pt, pb], [pl, pr], [0, 0]]);
  });
}

/**
 * dL/dW of a 2-D convolution (dilation 1), for any backend, as one
 * dilated convolution (module comment). `x` is the convolution's input, `dy` the gradient of
 * its output, both NHWC (or NCHW with `dataFormat`).
 */
export function conv2dBackpropFilterComposed(
  tf: Tf,
  x: Tensor4D,
  dy: Tensor4D,
  filterShape: [number, number, number, number],
  strides: [number, number] | number,
  pad: ConvGradientAttrs['pad'],
  dataFormat: 'NHWC' | 'NCHW' = 'NHWC',
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): Tensor4D {
  return tf.tidy(() => {
    const xh = dataFormat === 'NCHW' ? tf.transpose(x, [0, 2, 3, 1]) : x;
    const dyh = dataFormat === 'NCHW' ? tf.transpose(dy, [0, 2, 3, 1]) : dy;
    const [kh, kw, cin, cout] = filterShape;
    const info = tf.backend_util.computeConv2DInfo(
      xh.shape, filterShape, strides, 1, pad as never, dimRoundingMode, false, 'channelsLast',
    );
    const { strideHeight: sh, strideWidth: sw, outHeight: ho, outWidth: wo } = info;
    const { top, left } = info.padInfo;
    if (dyh.shape[1] !== ho || dyh.shape[2] !== wo || dyh.shape[3] !== cout || xh.shape[3] !== cin) {
      throw new Error(
        `Conv2DBackpropFilter: dy shape [${dyh.shape}] does not match x [${xh.shape}] and filter [${filterShape}]`,
      );
    }
    const [, hin, win] = xh.shape;
    // Zero-pad so that every tap's strided window lies inside the array.
    const needH = (ho - 1) * sh + kh;
    const needW = (wo - 1) * sw + kw;
    const bottom = Math.max(0, needH - top - hin);
    const right = Math.max(0, needW - left - win);
    const xp = top || left || bottom || right ? tf.pad(xh, [[0, 0], [top, bottom], [left, right], [0, 0]]) : xh;
    // One convolution: the input with batch and channels swapped ([Cin, H, W, N]) convolved
    // with the output gradient as the kernel ([Ho, Wo, N, Cout], dilated by the stride) gives
    // [Cin, ≥kh, ≥kw, Cout]; XNNPACK runs it as a single GEMM-backed convolution.
    const n = xh.shape[0];
    if (sh === 1 && sw === 1 && n === 1 && Math.min(cin, cout) >= 32) {
      // One image with many channels: per-tap products are faster here (measured, module comment).
      const dy2 = tf.reshape(dyh, [n * ho * wo, cout]);
      const xc = tf.transpose(xp, [3, 0, 1, 2]); // channels first: each tap's slice is Xᵀ
      if (xp !== xh) xp.dispose();
      const taps: import('@tensorflow/tfjs').Tensor2D[] = [];
      for (let ty = 0; ty < kh; ty++) {
        for (let tx = 0; tx < kw; tx++) {
          const shifted = tf.slice(xc, [0, 0, ty, tx], [cin, n, ho, wo]);
          taps.push(tf.matMul(tf.reshape(shifted, [cin, n * ho * wo]), dy2));
          shifted.dispose();
        }
      }
      return tf.reshape(tf.stack(taps), [kh, kw, cin, cout]) as Tensor4D;
    }
    const xt = tf.transpose(xp, [3, 1, 2, 0]) as Tensor4D;
    if (xp !== xh) xp.dispose();
    const kernel = tf.transpose(dyh, [1, 2, 0, 3]) as Tensor4D;
    const full = tf.conv2d(xt, kernel, 1, 'valid', 'NHWC', [sh, sw]);
    const cut = full.shape[1] === kh && full.shape[2] === kw ? full : tf.slice(full, [0, 0, 0, 0], [cin, kh, kw, cout]);
    return tf.transpose(cut, [1, 2, 0, 3]) as Tensor4D;
  });
}

/**
 * Registers the missing training kernels for the 'wasm' backend (no-op for
 * those already registered, so it may be called more than once). Returns the
 * names registered by this call.
 */
export function registerWasmTrainingKernels(tf: Tf): string[] {
  const added: string[] = [];
  if (!tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
    const config: KernelConfig = {
      kernelName: 'Conv2DBackpropFilter',
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs }) => {
        const a = attrs as unknown as Conv2DBackpropFilterAttrs;
        // Ops inside a kernel run with the gradient tape off (engine kernelDepth > 0).
        return tf.tidy(() => {
          const x = asTensor(tf, inputs.x as TensorInfo) as Tensor4D;
          const dy = asTensor(tf, inputs.dy as TensorInfo) as Tensor4D;
          return conv2dBackpropFilterComposed(tf, x, dy, a.filterShape, a.strides, a.pad, a.dataFormat, a.dimRoundingMode);
        }) as unknown as TensorInfo;
      },
    };
    tf.registerKernel(config);
    added.push('Conv2DBackpropFilter');
  }
  // tfjs-backend-wasm's own Conv2DBackpropInput is a scalar loop: for stride 1 (every conv of
  // the Deep-R generator) one XNNPACK convolution is ~10× faster (docs/ml-runtime.md).
  const own = tf.getKernel('Conv2DBackpropInput', 'wasm');
  if (own && !(own.kernelFunc as { focal?: boolean }).focal) {
    const fallback = own.kernelFunc;
    stockKernels.set('Conv2DBackpropInput', fallback);
    const kernelFunc: KernelConfig['kernelFunc'] = (args) => {
      const a = args.attrs as unknown as Conv2DBackpropInputAttrs;
      const [sh, sw] = typeof a.strides === 'number' ? [a.strides, a.strides] : a.strides;
      if (sh === 1 && sw === 1 && a.dataFormat !== 'NCHW') {
        const out = tf.tidy(() => {
          const dy = asTensor(tf, args.inputs.dy as TensorInfo) as Tensor4D;
          const filter = asTensor(tf, args.inputs.filter as TensorInfo) as Tensor4D;
          return conv2dBackpropInputAsConv(tf, dy, filter, a.inputShape, a.pad, a.dimRoundingMode);
        });
        if (out) return out as unknown as TensorInfo;
      }
      return fallback(args);
    };
    (kernelFunc as { focal?: boolean }).focal = true;
    tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
    tf.registerKernel({ ...own, kernelFunc });
    added.push('Conv2DBackpropInput');
  }
  return added;
}

const stockKernels = new Map<string, KernelConfig['kernelFunc']>();

/**
 * tfjs-backend-wasm's own kernel that {@link registerWasmTrainingKernels} replaced (for
 * benchmarks and tests comparing the two); undefined before registration.
 */
export function wasmStockKernel(name: 'Conv2DBackpropInput'): KernelConfig['kernelFunc'] | undefined {
  return stockKernels.get(name);
}

function asTensor(tf: Tf, info: TensorInfo): import('@tensorflow/tfjs').Tensor {
  if (info instanceof tf.Tensor) return info;
  // A wrapper over the same data (ref-counted); the surrounding tidy disposes the wrapper only.
  return tf.engine().makeTensorFromTensorInfo(info);
}
