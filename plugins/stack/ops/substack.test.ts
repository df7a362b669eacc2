import { describe, expect, it } from 'vitest';
import { FocalError, createStack, planeIndex, type Stack } from '../../../core/index.js';
import { runOp } from '../../../core/index.js';
import { parseIndexList, substack } from './substack.js';

/** c=3, z=5, t=2 uint8 stack, 1×1 px; value = 100·t + 10·z + c. */
function hyperstack(rgb = false): Stack {
  const planes: Uint8Array[] = [];
  for (let t = 0; t < 2; t++) for (let z = 0; z < 5; z++) for (let c = 0; c < 3; c++) planes.push(Uint8Array.of(100 * t + 10 * z + c));
  return createStack({
    width: 1, height: 1, dtype: 'uint8', sizeC: 3, sizeZ: 5, sizeT: 2, planes, rgb,
    calibration: { pixelWidthUm: 0.2, zStepUm: 0.5, timeStepS: 3 },
    channelNames: rgb ? [] : ['a', 'b', 'c'],
  });
}

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FocalError);
    expect((err as FocalError).code).toBe('E_PARAMS');
    return (err as FocalError).details.field;
  }
  throw new Error('expected an error');
}

describe('parseIndexList', () => {
  it('parses single indices, ranges and stepped ranges in order', () => {
    expect(parseIndexList('0-4,7,10-20:2', 25, 'z')).toEqual([0, 1, 2, 3, 4, 7, 10, 12, 14, 16, 18, 20]);
    expect(parseIndexList(' 2 , 0 ', 3, 'c')).toEqual([2, 0]);
    expect(parseIndexList('1-8:3', 10, 't')).toEqual([1, 4, 7]);
  });

  it('names the field for out-of-range indices, descending ranges, step 0 and bad syntax', () => {
    expect(fieldOf(() => parseIndexList('0-5', 5, 'z'))).toBe('z');
    expect(() => parseIndexList('0-5', 5, 'z')).toThrow(/z: index 5 is out of range: this axis has 5 entries \(0–4\)/);
    expect(fieldOf(() => parseIndexList('4-2', 5, 't'))).toBe('t');
    expect(fieldOf(() => parseIndexList('0-4:0', 5, 'c'))).toBe('c');
    expect(fieldOf(() => parseIndexList('1..3', 5, 'z'))).toBe('z');
    expect(fieldOf(() => parseIndexList('', 5, 'z'))).toBe('z');
  });
});

describe('stack.substack', () => {
  it('keeps everything when no selection is given (copies the planes)', async () => {
    const s = hyperstack();
    const out = (await runOp(substack, { stack: s })).stack as Stack;
    expect([out.sizeC, out.sizeZ, out.sizeT]).toEqual([3, 5, 2]);
    expect(out.planes.map((p) => p[0])).toEqual(s.planes.map((p) => p[0]));
    expect(out.planes[0]).not.toBe(s.planes[0]);
    expect(out.calibration).toEqual(s.calibration);
  });

  it('selects channels, slices and frames in the order given', async () => {
    const s = hyperstack();
    const out = (await runOp(substack, { stack: s }, { c: '2,0', z: '1-3:2', t: '1' })).stack as Stack;
    expect([out.sizeC, out.sizeZ, out.sizeT]).toEqual([2, 2, 1]);
    expect(out.channelNames).toEqual(['c', 'a']);
    expect(out.planes[planeIndex(out, 0, 0, 0)][0]).toBe(100 + 10 + 2);
    expect(out.planes[planeIndex(out, 1, 0, 0)][0]).toBe(100 + 10 + 0);
    expect(out.planes[planeIndex(out, 0, 1, 0)][0]).toBe(100 + 30 + 2);
    // regular z step 2 → zStepUm doubles; a single frame keeps timeStepS
    expect(out.calibration).toEqual({ pixelWidthUm: 0.2, zStepUm: 1, timeStepS: 3 });
  });

  it('drops zStepUm for an irregular slice selection', async () => {
    const out = (await runOp(substack, { stack: hyperstack() }, { z: '0,1,4' })).stack as Stack;
    expect(out.sizeZ).toBe(3);
    expect(out.calibration.zStepUm).toBeUndefined();
    expect(out.calibration.pixelWidthUm).toBe(0.2);
  });

  it('keeps RGB only for channels 0,1,2 in order', async () => {
    expect(((await runOp(substack, { stack: hyperstack(true) }, { z: '0' })).stack as Stack).rgb).toBe(true);
    expect(((await runOp(substack, { stack: hyperstack(true) }, { c: '2,1,0' })).stack as Stack).rgb).toBe(false);
  });

  it('fails with E_PARAMS naming the field when an index is out of range', async () => {
    await expect(runOp(substack, { stack: hyperstack() }, { t: '0-2' })).rejects.toMatchObject({ code: 'E_PARAMS', details: { field: 't' } });
    await expect(runOp(substack, { stack: hyperstack() }, { c: '3' })).rejects.toMatchObject({ code: 'E_PARAMS', details: { field: 'c' } });
  });

  it('rejects malformed lists in its schema', () => {
    expect(substack.params.safeParse({ z: '1-' }).success).toBe(false);
    expect(substack.params.safeParse({ z: 'all' }).success).toBe(false);
    expect(substack.params.safeParse({ z: '0-4, 7, 10-20:2' }).success).toBe(true);
  });
});
