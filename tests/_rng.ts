/**
 * Seeded random numbers for the randomised tests, so every run of a seed is the same run.
 */

/** mulberry32: a tiny seeded PRNG (the model and fuzz tests). */
export class Rng {
  #a: number;
  constructor(seed: number) {
    this.#a = seed >>> 0;
  }
  next(): number {
    let t = (this.#a = (this.#a + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  big64(): bigint {
    return (BigInt(this.int(2 ** 32)) << 32n) | BigInt(this.int(2 ** 32));
  }
}

/** A linear congruential generator (the cdef layout tests against gcc: their seeds name its runs). */
export class Lcg {
  #s: number;
  constructor(seed: number) {
    this.#s = seed;
  }
  int(n: number): number {
    this.#s = (Math.imul(this.#s, 1103515245) + 12345) >>> 0;
    return (this.#s >>> 8) % n;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }
}
