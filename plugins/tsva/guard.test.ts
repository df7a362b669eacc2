import { describe, expect, it } from 'vitest';
import { isFocalError, mulberry32 } from '../../core/index.js';
import { applySafety, gaussianBlur2d } from '../../core/imaging.js';
import type { InferenceEngine } from '../../core/ml.js';
import { guardOutput, guardOutputAsync, refocusPair, type Shot } from './refocus.js';

/** Deterministic values in [0, 1) (core's seeded generator). */
const noise = (n: number, seed: number): Float32Array => Float32Array.from({ length: n }, mulberry32(seed));

const W = 40;
const H = 32;
const n = W * H;
const channel = (hwc: Float32Array, c: number) => Float32Array.from({ length: n }, (_, i) => hwc[i * 3 + c]);

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => {
    throw new Error('expected a rejection');
  }, (e: unknown) => e);
}

describe('TSVA consistency guard: per channel, cancellable between channels', () => {
  // a sharp output, Y1 = it blurred (σ 2 px) plus a little noise: kept in every channel
  const sharp = noise(n * 3, 1).map((v) => (v < 0.2 ? 0.2 : 0.9));
  const y1 = new Float32Array(n * 3);
  for (let c = 0; c < 3; c++) {
    const b = gaussianBlur2d(channel(sharp, c), W, H, 2, 2);
    for (let i = 0; i < n; i++) y1[i * 3 + c] = b[i] + 0.002 * Math.sin(i * 12.9898 + c);
  }
  // and one whose green channel holds a structure Y1 cannot explain
  const out = sharp.map((v, i) => (i % 3 === 1 ? v + 0.2 * Math.cos(Math.floor(i / 3 / W) / 2) : v));

  it('is the smallest of applySafety’s three channel weights, blending the output towards Y1', () => {
    const weights = [0, 1, 2].map((c) => applySafety(channel(y1, c), channel(out, c), W, H).weight);
    const g = guardOutput(y1, out, W, H);
    expect(g.weight).toBe(Math.min(...weights));
    expect(Array.from(g.hwc)).toEqual(Array.from(out.map((v, i) => g.weight * v + (1 - g.weight) * y1[i])));
  });

  it('guardOutputAsync gives the same result as guardOutput', async () => {
    expect(guardOutput(y1, sharp, W, H).weight).toBe(1);
    for (const o of [out, sharp, y1]) {
      const a = guardOutput(y1, o, W, H);
      const b = await guardOutputAsync(y1, o, W, H, new AbortController().signal);
      expect(b.weight).toBe(a.weight);
      expect(Array.from(b.hwc)).toEqual(Array.from(a.hwc));
    }
  });

  it('an aborted signal stops it with E_CANCELLED', async () => {
    const controller = new AbortController();
    controller.abort();
    let err: unknown;
    try {
      guardOutput(y1, out, W, H, controller.signal);
    } catch (e) {
      err = e;
    }
    expect(isFocalError(err) && err.code).toBe('E_CANCELLED');
    const asyncErr = await rejection(guardOutputAsync(y1, out, W, H, controller.signal));
    expect(isFocalError(asyncErr) && asyncErr.code).toBe('E_CANCELLED');
  });

  it('guardOutputAsync sees a cancel that arrives while it runs (between channels)', async () => {
    const controller = new AbortController();
    const run = guardOutputAsync(y1, sharp, W, H, controller.signal); // weight 1: every channel is checked
    // queued behind the guard's first yield: runs after the first channel, before the second
    setImmediate(() => controller.abort());
    const err = await rejection(run);
    expect(isFocalError(err) && err.code).toBe('E_CANCELLED');
  });

  it("refocusPair with guard 'consistency' honours its signal after the network ran", async () => {
    const a: Shot = { hwc: y1, width: W, height: H };
    const b: Shot = { hwc: noise(n * 3, 2), width: W, height: H };
    let cancel: AbortController | undefined;
    let calls = 0;
    // the network returns Y1's channels; the cancel arrives (as a message would) once it has answered
    const engine: InferenceEngine = {
      kind: 'tfjs',
      async run(input, shape) {
        calls++;
        if (cancel) setImmediate(() => cancel?.abort());
        const [nb, th, tw, nc] = shape;
        const data = new Float32Array(nb * th * tw * 3);
        for (let p = 0; p < nb * th * tw; p++) for (let c = 0; c < 3; c++) data[p * 3 + c] = input[p * nc + c];
        return { data, shape: [nb, th, tw, 3] };
      },
      async dispose() {},
    };
    const options = { tilePx: 64, haloPx: 0, multipleOf: 1, arch: 'tsva', order: 'as-given', guard: 'consistency' } as const;
    const done = await refocusPair(a, b, engine, { ...options, signal: new AbortController().signal });
    expect(done.guardWeight).toBe(0); // the output is Y1 itself: Y1 returned
    cancel = new AbortController();
    const err = await rejection(refocusPair(a, b, engine, { ...options, signal: cancel.signal }));
    expect(isFocalError(err) && err.code).toBe('E_CANCELLED');
    expect(calls).toBe(2); // the network ran: the guard stopped it
  });
});
