/**
 * Seeded pseudo-random numbers for synthetic data, samples, tests and benchmarks (never
 * Math.random: every sample in samples/ and every synthetic test input must be identical on
 * every machine and every run).
 *
 * Two generators, both pinned by committed samples, so both are kept:
 * - {@link mulberry32}: a 32-bit-state generator returning a plain `() => number`, with the
 *   free samplers {@link gaussianRandom} (Box–Muller) and {@link poissonRandom} (Knuth's
 *   product method, normal approximation above λ = 30). Used by scripts/make-samples.ts,
 *   scripts/make-sample-he.ts, the plugins' synthetic data and the benchmarks.
 * - {@link Xoshiro128}: xoshiro128** seeded through splitmix32, with 53-bit uniforms, exact
 *   Poisson variates (inversion below λ = 10, Hörmann's PTRS above, as NumPy does) and
 *   independent streams. Used by the optics simulator (plugins/optics) and
 *   scripts/make-sample-beads.ts. Written here rather than imported: the maintained npm
 *   package with a seeded Poisson sampler, @stdlib/random-base-poisson 0.2.2, has about 20
 *   direct @stdlib dependencies for what is ~100 lines.
 */

/**
 * mulberry32 (Tommy Ettinger's 32-bit generator): a small, fast seeded PRNG.
 * @param seed any number; it is reduced to an unsigned 32-bit integer (`seed >>> 0`).
 * @returns a generator of uniform doubles in [0, 1) (32 random bits each).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One standard normal deviate (mean 0, variance 1) by the Box–Muller transform, cosine branch
 * only: it draws exactly two uniforms from `rand` per call (the first clamped to ≥ 1e-12 so
 * that log(0) cannot occur).
 */
export function gaussianRandom(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/**
 * One Poisson deviate with mean `lambda` (photon shot noise). For λ ≤ 30: Knuth's product of
 * uniforms (exact; draws about λ + 1 uniforms). For λ > 30: the normal approximation
 * round(λ + √λ·N(0, 1)), clamped at 0 (two uniforms). λ ≤ 0 gives 0.
 */
export function poissonRandom(lambda: number, rand: () => number): number {
  if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * gaussianRandom(rand)));
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rand();
  } while (p > l);
  return k - 1;
}

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

const LOG_FACT = (() => {
  const t = new Float64Array(256);
  for (let k = 2; k < 256; k++) t[k] = t[k - 1] + Math.log(k);
  return t;
})();

/** ln(k!) for integer k ≥ 0 (table below 256, Stirling series above: error < 1e-15 relative). */
export function logFactorial(k: number): number {
  if (k < 256) return LOG_FACT[k];
  const n = k + 1;
  return (n - 0.5) * Math.log(n) - n + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * n) - 1 / (360 * n ** 3) + 1 / (1260 * n ** 5);
}

/**
 * xoshiro128** (Blackman & Vigna) seeded through splitmix32, with uniform, normal (Marsaglia's
 * polar method, the spare deviate cached) and Poisson (inversion for λ < 10, Hörmann's PTRS
 * for λ ≥ 10) samplers.
 */
export class Xoshiro128 {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | undefined;

  /** @param seed any finite number; equal seeds give equal sequences. `stream` selects an independent sequence (e.g. a plane index). */
  constructor(seed: number, stream = 0) {
    const mix = splitmix32((Math.floor(seed) ^ Math.imul(stream + 1, 0x27d4eb2d)) >>> 0);
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** Next 32-bit unsigned integer (xoshiro128**). */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal variate. */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    for (;;) {
      const u = 2 * this.uniform() - 1;
      const v = 2 * this.uniform() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const m = Math.sqrt((-2 * Math.log(s)) / s);
        this.spare = v * m;
        return u * m;
      }
    }
  }

  /** Poisson variate with mean `lambda` (≥ 0). */
  poisson(lambda: number): number {
    if (!(lambda > 0)) return 0;
    if (lambda < 10) {
      // inversion by sequential search
      let k = 0;
      let p = Math.exp(-lambda);
      let cdf = p;
      const u = this.uniform();
      while (u > cdf && k < 1000) {
        k++;
        p *= lambda / k;
        cdf += p;
      }
      return k;
    }
    // PTRS (W. Hörmann, "The transformed rejection method for generating Poisson random variables", 1993)
    const slam = Math.sqrt(lambda);
    const loglam = Math.log(lambda);
    const b = 0.931 + 2.53 * slam;
    const a = -0.059 + 0.02483 * b;
    const invalpha = 1.1239 + 1.1328 / (b - 3.4);
    const vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
      const U = this.uniform() - 0.5;
      const V = this.uniform();
      const us = 0.5 - Math.abs(U);
      const k = Math.floor(((2 * a) / us + b) * U + lambda + 0.43);
      if (us >= 0.07 && V <= vr) return k;
      if (k < 0 || (us < 0.013 && V > us)) continue;
      if (Math.log(V) + Math.log(invalpha) - Math.log(a / (us * us) + b) <= -lambda + k * loglam - logFactorial(k)) return k;
    }
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * mulberry32 as an object whose whole state is one public 32-bit integer, so a training
 * checkpoint can store and restore it (`rng.state`). The seed is mixed once
 * (`(seed >>> 0) ^ 0x6d2b79f5`) before the first step.
 */
export class SeededRandom {
  state: number;
  constructor(seed: number) {
    this.state = (Math.floor(seed) >>> 0) ^ 0x6d2b79f5;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Uniform in [a, b). */
  uniform(a: number, b: number): number {
    return a + (b - a) * this.next();
  }
  /** A fresh 32-bit seed (for other generators). */
  seed(): number {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }
}
