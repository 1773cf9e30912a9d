// Argument checks at the public boundary of the control tasks (internal).
import type * as tf from '@tensorflow/tfjs';

/** A short, readable description of a received value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'function') return 'a function';
  if (isTensor(value)) return `a tensor of shape [${value.shape.join(', ')}]`;
  return typeof value;
}

/** Whether `value` looks like a tf.Tensor. */
export function isTensor(value: unknown): value is tf.Tensor {
  return (
    value !== null &&
    typeof value === 'object' &&
    Array.isArray((value as { shape?: unknown }).shape) &&
    typeof (value as { dataSync?: unknown }).dataSync === 'function'
  );
}

/** Throws unless `value` is a finite number. */
export function checkFinite(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`${name} must be a finite number, received ${describe(value)}`);
  }
}

/** Throws unless `value` is an integer ≥ `min`. */
export function checkInteger(name: string, value: unknown, min: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${name} must be an integer, received ${describe(value)}`);
  }
  if (value < min) throw new RangeError(`${name} must be ≥ ${min}, received ${value}`);
}

/** Throws unless `value` is a finite number > 0. */
export function checkPositive(name: string, value: unknown): asserts value is number {
  checkFinite(name, value);
  if (!(value > 0)) throw new RangeError(`${name} must be > 0, received ${value}`);
}

/** Throws unless `value` is a function. */
export function checkFunction(name: string, value: unknown): void {
  if (typeof value !== 'function') {
    throw new TypeError(`${name} must be a function, received ${describe(value)}`);
  }
}

/** Throws unless `x` is a tensor whose shape equals `expected` (−1 matches any size). */
export function checkShape(name: string, x: unknown, expected: readonly number[]): asserts x is tf.Tensor {
  const want = `[${expected.map((d) => (d < 0 ? '*' : String(d))).join(', ')}]`;
  if (!isTensor(x)) throw new TypeError(`${name} must be a tensor of shape ${want}, received ${describe(x)}`);
  const ok = x.shape.length === expected.length && expected.every((d, i) => d < 0 || x.shape[i] === d);
  if (!ok) throw new RangeError(`${name} must have shape ${want}, received [${x.shape.join(', ')}]`);
}

/**
 * Resolves a per-dimension value given as a number (the same for every
 * dimension) or an array of `size` finite numbers.
 */
export function perDimension(name: string, value: unknown, size: number): number[] {
  if (typeof value === 'number') {
    checkFinite(name, value);
    return new Array<number>(size).fill(value);
  }
  if (!Array.isArray(value) || value.length !== size) {
    throw new TypeError(
      `${name} must be a number or an array of ${size} numbers, received ${describe(value)}`,
    );
  }
  value.forEach((v, i) => {
    checkFinite(`${name}[${i}]`, v);
  });
  return value.slice() as number[];
}

/** Throws unless `x` is a tensor of rank ≥ `minRank` whose last axis has `size` entries. */
export function checkLastAxis(name: string, x: unknown, size: number, minRank = 1): asserts x is tf.Tensor {
  const want = `[${[...new Array<string>(minRank - 1).fill('…'), String(size)].join(', ')}]`;
  if (!isTensor(x)) throw new TypeError(`${name} must be a tensor of shape ${want}, received ${describe(x)}`);
  if (x.rank < minRank || x.shape[x.rank - 1] !== size) {
    throw new RangeError(`${name} must have shape ${want}, received [${x.shape.join(', ')}]`);
  }
}
