import { describe, expect, it } from 'vitest';
import { rgbToYcbcr601, ycbcr601ToRgb } from './colour.js';

describe('BT.601 YCbCr', () => {
  it('matches MATLAB/scikit-image rgb2ycbcr on reference colours', () => {
    // skimage.color.rgb2ycbcr([[1,1,1],[0,0,0],[1,0,0]]) = [235,128,128], [16,128,128], [81.481, 90.203, 240]
    const [y, cb, cr] = rgbToYcbcr601([[1, 0, 1], [1, 0, 0], [1, 0, 0]]);
    expect(Array.from(y, (v) => v * 255)).toEqual([expect.closeTo(235, 3), expect.closeTo(16, 3), expect.closeTo(81.481, 3)]);
    expect(Array.from(cb, (v) => v * 255)).toEqual([expect.closeTo(128, 3), expect.closeTo(128, 3), expect.closeTo(90.203, 3)]);
    expect(Array.from(cr, (v) => v * 255)).toEqual([expect.closeTo(128, 3), expect.closeTo(128, 3), expect.closeTo(240, 3)]);
  });
  it('round-trips RGB → YCbCr → RGB', () => {
    const n = 500;
    let s = 1;
    const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647);
    const rgb = [0, 1, 2].map(() => Float32Array.from({ length: n }, rnd));
    const back = ycbcr601ToRgb(rgbToYcbcr601(rgb));
    for (let k = 0; k < 3; k++) for (let i = 0; i < n; i++) expect(back[k][i]).toBeCloseTo(rgb[k][i], 5);
    expect(() => rgbToYcbcr601([[1], [1]])).toThrow(/rgb: give three planes/);
  });
});
