import { FocalError } from '../errors.js';

/** Pixel types Focal works with. Integer TIFFs of other depths are converted on read. */
export type DType = 'uint8' | 'uint16' | 'float32';
export const DTYPES: readonly DType[] = ['uint8', 'uint16', 'float32'];

export type PixelArray = Uint8Array | Uint16Array | Float32Array;
export type ArrayFor<D extends DType> = D extends 'uint8' ? Uint8Array : D extends 'uint16' ? Uint16Array : Float32Array;

export function allocate<D extends DType>(dtype: D, length: number): ArrayFor<D> {
  switch (dtype) {
    case 'uint8':
      return new Uint8Array(length) as ArrayFor<D>;
    case 'uint16':
      return new Uint16Array(length) as ArrayFor<D>;
    case 'float32':
      return new Float32Array(length) as ArrayFor<D>;
    default:
      throw new FocalError('E_ARGUMENT', `unknown dtype '${String(dtype)}'`);
  }
}

export function dtypeOf(data: PixelArray): DType {
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Uint16Array) return 'uint16';
  if (data instanceof Float32Array) return 'float32';
  throw new FocalError('E_ARGUMENT', 'pixel data must be a Uint8Array, Uint16Array or Float32Array');
}

export function bytesPerSample(dtype: DType): number {
  return dtype === 'uint8' ? 1 : dtype === 'uint16' ? 2 : 4;
}

/** The representable range of an integer dtype; float32 has none and returns undefined. */
export function integerRange(dtype: DType): [number, number] | undefined {
  if (dtype === 'uint8') return [0, 255];
  if (dtype === 'uint16') return [0, 65535];
  return undefined;
}
