// Seeded standard-normal draws, the same numbers as
// tf.randomNormal(shape, 0, 1, 'float32', seed) for every seed ≠ 0, about
// twice as fast: the same generator (Baagøe's Alea, seeded with the decimal
// string of the seed, as tfjs seeds it) and the same Marsaglia polar method,
// written as one loop over local variables. (tfjs treats seed 0 as "no
// seed"; here 0 is a seed like any other.)

/** Baagøe's Mash hash, which seeds Alea. */
function mash(): (data: string) => number {
  let n = 0xefc8249d;
  return (data) => {
    for (let i = 0; i < data.length; i++) {
      n += data.charCodeAt(i);
      let h = 0.02519603282416938 * n;
      n = h >>> 0;
      h -= n;
      h *= n;
      n = h >>> 0;
      h -= n;
      n += h * 0x100000000;
    }
    return (n >>> 0) * 2.3283064365386963e-10;
  };
}

/**
 * `size` standard-normal draws for `seed`, as float32.
 *
 * @param size Number of draws.
 * @param seed Any finite number; the same seed gives the same draws.
 */
export function seededNormal(size: number, seed: number): Float32Array {
  const h = mash();
  let s0 = h(' ');
  let s1 = h(' ');
  let s2 = h(' ');
  let c = 1;
  const key = String(seed);
  s0 -= h(key);
  if (s0 < 0) s0 += 1;
  s1 -= h(key);
  if (s1 < 0) s1 += 1;
  s2 -= h(key);
  if (s2 < 0) s2 += 1;
  const out = new Float32Array(size);
  let i = 0;
  while (i < size) {
    let v1: number;
    let v2: number;
    let s: number;
    do {
      let t = 2091639 * s0 + c * 2.3283064365386963e-10;
      s0 = s1;
      s1 = s2;
      c = t | 0;
      s2 = t - c;
      v1 = 2 * s2 - 1;
      t = 2091639 * s0 + c * 2.3283064365386963e-10;
      s0 = s1;
      s1 = s2;
      c = t | 0;
      s2 = t - c;
      v2 = 2 * s2 - 1;
      s = v1 * v1 + v2 * v2;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2.0 * Math.log(s)) / s);
    // tfjs computes mean + std·v·m with mean 0 and std 1.
    out[i++] = 0 + 1 * v1 * m;
    if (i < size) out[i++] = 0 + 1 * v2 * m;
  }
  return out;
}
