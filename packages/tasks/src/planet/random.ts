/**
 * A small seeded generator for the online loop's own draws (seed-episode
 * actions, exploration noise, replay sequences, posterior samples while
 * acting): plain JavaScript, so a stream seeded by `deriveSeed` gives the
 * same numbers on every backend and after a resume.
 *
 * @module
 */

/**
 * A seeded stream of uniform and standard-normal draws (internal). The state
 * is four 32-bit words of the sfc32 generator, filled from the seed by a
 * 32-bit hash; normal draws use the Box–Muller transform, one pair at a time.
 */
export class PlanetRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | undefined;

  /** @param seed An integer (for example a `deriveSeed` value). */
  constructor(seed: number) {
    let x = (seed >>> 0) ^ (Math.floor(seed / 4294967296) >>> 0);
    const mix = () => {
      x = (x + 0x6d2b79f5) | 0;
      let z = Math.imul(x ^ (x >>> 15), x | 1);
      z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
      return (z ^ (z >>> 14)) >>> 0;
    };
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** The next 32 random bits, as an integer in [0, 2³²). */
  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform draw in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.uint32() >>> 5;
    const lo = this.uint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** A uniform integer in [0, n), n ≤ 2⁵³ (no modulo bias beyond 2⁻⁵³). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A uniform draw in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** A standard normal draw. */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    const u = 1 - this.next(); // (0, 1]
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** `n` standard normal draws as float32. */
  normals(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal();
    return out;
  }
}
