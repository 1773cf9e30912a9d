import { describe, expect, it } from 'vitest';
import { Random } from './random.js';

describe('Random', () => {
  it('is reproducible per seed and differs between seeds', () => {
    const a = new Random(7);
    const b = new Random(7);
    const c = new Random(8);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xs);
  });

  it('draws uniforms in [0, 1) and standard normals with the right moments', () => {
    const r = new Random(1);
    const n = 40000;
    let sum = 0;
    let sq = 0;
    let usum = 0;
    let inRange = true;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      inRange &&= u >= 0 && u < 1;
      usum += u;
      const z = r.normal();
      sum += z;
      sq += z * z;
    }
    expect(inRange).toBe(true);
    // Standard errors: uniform mean 0.5 ± 0.0015, normal mean 0 ± 0.005, variance 1 ± 0.007 (n = 40000).
    expect(Math.abs(usum / n - 0.5)).toBeLessThan(0.006);
    expect(Math.abs(sum / n)).toBeLessThan(0.02);
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.03);
  });
});
