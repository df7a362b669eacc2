import { describe, expect, it } from 'vitest';
import { binaryPlane } from './binary.js';

describe('binaryPlane', () => {
  const a = Float32Array.of(10, 3, -2, 0, 7.5);
  const b = Uint8Array.of(4, 5, 2, 0, 0);

  it.each([
    ['add', [14, 8, 0, 0, 7.5]],
    ['subtract', [6, -2, -4, 0, 7.5]],
    ['multiply', [40, 15, -4, 0, 0]],
    ['min', [4, 3, -2, 0, 0]],
    ['max', [10, 5, 2, 0, 7.5]],
    ['difference', [6, 2, 4, 0, 7.5]],
  ] as const)('%s', (op, expected) => {
    const out = binaryPlane(a, b, op);
    expect(out).toBeInstanceOf(Float32Array);
    expect([...out]).toEqual(expected);
  });

  it('divide follows IEEE: x/0 = ±Infinity, 0/0 = NaN', () => {
    const out = binaryPlane(Float32Array.of(9, -1, 0, 1), Float32Array.of(3, 0, 0, 3), 'divide');
    expect(out[0]).toBe(3);
    expect(out[1]).toBe(-Infinity);
    expect(Number.isNaN(out[2])).toBe(true);
    expect(out[3]).toBeCloseTo(1 / 3, 7);
  });

  it('rejects planes of different lengths', () => {
    expect(() => binaryPlane(new Uint8Array(2), new Uint8Array(3), 'add')).toThrow(/differ in length/);
  });
});
