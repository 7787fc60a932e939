/**
 * Seeded randomness. The core draws its randomised election timeouts from an
 * injected Rng so that a simulation replays exactly from its seed.
 */

/** A source of uniformly distributed integers. */
export interface Rng {
  /** Returns an integer in [0, n). */
  nextInt(n: number): number;
}

/**
 * mulberry32: a 32-bit state PRNG, tiny and fast, with enough quality for
 * timeouts and fault injection (it is not for cryptography).
 */
export class SeededRng implements Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Returns a uniform 32-bit unsigned integer. */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Returns a float in [0, 1). */
  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }

  nextInt(n: number): number {
    return Math.floor(this.nextFloat() * n);
  }

  /** Returns true with probability p. */
  chance(p: number): boolean {
    return this.nextFloat() < p;
  }
}
