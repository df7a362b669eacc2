/** Small seeded PRNG (mulberry32) whose whole state is one 32-bit integer, so checkpoints can store it. */
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
  uniform(a: number, b: number): number {
    return a + (b - a) * this.next();
  }
  /** A fresh 32-bit seed (for other generators). */
  seed(): number {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }
}
