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
 * The filter gradient is computed per kernel tap. For tap (ty, tx):
 *   dW[ty, tx, :, :] = Xᵀ(ty, tx) · dY
 * where X(ty, tx) is the (zero-padded) input sampled at the output positions
 * shifted by the tap — a strided slice, N·Ho·Wo × Cin — and dY is the output
 * gradient, N·Ho·Wo × Cout. The input is transposed to channels-first once, so
 * each tap's slice is already Xᵀ (Cin × N·Ho·Wo) and each product is one plain
 * BatchMatMul (XNNPACK in wasm); the k·k results are stacked into
 * [kh, kw, Cin, Cout]. Memory: the transposed input plus one shifted copy at a
 * time (not a k·k-times larger im2col matrix).
 */

type Tf = typeof import('@tensorflow/tfjs');
type Tensor4D = import('@tensorflow/tfjs').Tensor4D;
type TensorInfo = import('@tensorflow/tfjs').TensorInfo;
type KernelConfig = import('@tensorflow/tfjs').KernelConfig;

/** The kernels this module adds to the wasm backend. */
export const WASM_TRAINING_KERNELS: readonly string[] = ['Conv2DBackpropFilter'];

interface Conv2DBackpropFilterAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/**
 * dL/dW of a 2-D convolution (dilation 1), for any backend, from slice,
 * pad, matMul and stack. `x` is the convolution's input, `dy` the gradient of
 * its output, both NHWC (or NCHW with `dataFormat`).
 */
export function conv2dBackpropFilterComposed(
  tf: Tf,
  x: Tensor4D,
  dy: Tensor4D,
  filterShape: [number, number, number, number],
  strides: [number, number] | number,
  pad: Conv2DBackpropFilterAttrs['pad'],
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
    const n = xh.shape[0];
    const [, hin, win] = xh.shape;
    // Zero-pad so that every tap's strided window lies inside the array.
    const needH = (ho - 1) * sh + kh;
    const needW = (wo - 1) * sw + kw;
    const bottom = Math.max(0, needH - top - hin);
    const right = Math.max(0, needW - left - win);
    const xp = top || left || bottom || right ? tf.pad(xh, [[0, 0], [top, bottom], [left, right], [0, 0]]) : xh;
    const dy2 = tf.reshape(dyh, [n * ho * wo, cout]);
    // Channels first, once: each tap's slice then reshapes straight to Cin × (N·Ho·Wo), and
    // the product needs no transposed operand (wasm's BatchMatMul with transposeA is ~7× slower).
    const xt = tf.transpose(xp, [3, 0, 1, 2]);
    if (xp !== xh) xp.dispose();
    const taps: import('@tensorflow/tfjs').Tensor2D[] = [];
    for (let ty = 0; ty < kh; ty++) {
      for (let tx = 0; tx < kw; tx++) {
        const shifted =
          sh === 1 && sw === 1
            ? tf.slice(xt, [0, 0, ty, tx], [cin, n, ho, wo])
            : tf.stridedSlice(xt, [0, 0, ty, tx], [cin, n, ty + (ho - 1) * sh + 1, tx + (wo - 1) * sw + 1], [1, 1, sh, sw]);
        const cols = tf.reshape(shifted, [cin, n * ho * wo]);
        taps.push(tf.matMul(cols, dy2));
        shifted.dispose();
        cols.dispose();
      }
    }
    return tf.reshape(tf.stack(taps), [kh, kw, cin, cout]) as Tensor4D;
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
  return added;
}

function asTensor(tf: Tf, info: TensorInfo): import('@tensorflow/tfjs').Tensor {
  if (info instanceof tf.Tensor) return info;
  // A wrapper over the same data (ref-counted); the surrounding tidy disposes the wrapper only.
  return tf.engine().makeTensorFromTensorInfo(info);
}
