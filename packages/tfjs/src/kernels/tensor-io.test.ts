// The typed attribute reader every fused kernel uses.
import { describe, expect, it } from 'vitest';
import { type AttrSpec, readAttrs } from './tensor-io.js';

interface Example {
  k: number;
  normalize: boolean;
  shape: number[];
}

const SPEC: AttrSpec<Example> = { k: 'number', normalize: 'boolean', shape: 'shape' };

describe('readAttrs', () => {
  it('reads the attributes its spec names into a typed object, and only those', () => {
    expect(readAttrs('DcemTest', { k: 3, normalize: true, shape: [2, 4], other: 1 }, SPEC)).toEqual({
      k: 3,
      normalize: true,
      shape: [2, 4],
    });
  });

  it('takes a flag as true only when it is true', () => {
    expect(readAttrs('DcemTest', { k: 1, shape: [] }, SPEC).normalize).toBe(false);
    expect(readAttrs('DcemTest', { k: 1, normalize: 1, shape: [] }, SPEC).normalize).toBe(false);
  });

  it('names the kernel and the attribute when a number or a shape is missing or of the wrong kind', () => {
    expect(() => readAttrs('DcemTest', { normalize: true, shape: [] }, SPEC)).toThrow(
      'DcemTest kernel: attribute k must be a number',
    );
    expect(() => readAttrs('DcemTest', { k: '3', shape: [] }, SPEC)).toThrow(
      'DcemTest kernel: attribute k must be a number',
    );
    expect(() => readAttrs('DcemTest', { k: 3, shape: 4 }, SPEC)).toThrow(
      'DcemTest kernel: attribute shape must be an array',
    );
    expect(() => readAttrs('DcemTest', undefined, SPEC)).toThrow(/attribute k/);
  });
});
