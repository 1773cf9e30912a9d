import { describe, expect, it } from 'vitest';
import type { Backend } from './backend.js';
import {
  type BackendPrimitives,
  completeBackend,
  DERIVED_METHODS,
  type DerivedMethod,
} from './complete-backend.js';
import { backendConformanceCases } from './testing/conformance.js';
import { createFloat64Backend, type Float64Tensor } from './testing/float64-backend.js';

const direct = createFloat64Backend();
const grad = direct.grad;

/** The float64 backend's primitives: every derived method removed. */
function primitivesOf(b: Backend<Float64Tensor>): BackendPrimitives<Float64Tensor> {
  const out: Record<string, unknown> = { ...b };
  for (const name of DERIVED_METHODS) delete out[name];
  return out as unknown as BackendPrimitives<Float64Tensor>;
}

const derived = completeBackend(primitivesOf(direct));

describe('completeBackend over the float64 primitives passes every conformance case', () => {
  for (const c of backendConformanceCases) {
    it(`${c.kind}: ${c.name}`, () => c.run(derived, { tolerance: 1e-12, grad }));
  }
});

const nan = Number.NaN;
const inf = Number.POSITIVE_INFINITY;
// Ties, zeros of both signs, NaN and ±∞.
const X = [1, -2, 0, -0, 3, 3, nan, inf, -inf, 0.5, -0.5, 2];
const Y = [1, 2, -1, 0, 3, nan, 1, 4, -inf, 0.5, inf, -3];
const read = (t: Float64Tensor) => Array.from(t.data);
const x = () => direct.tensor(X, [3, 4]);
const y = () => direct.tensor(Y, [3, 4]);

/** Each derived method applied to the test inputs, with a gradient where it has one. */
const uses: Record<Exclude<DerivedMethod, 'read'>, (b: Backend<Float64Tensor>) => Float64Tensor> = {
  scalar: (b) => b.scalar(-2.5),
  fill: (b) => b.fill([2, 3], nan),
  square: (b) => b.square(x()),
  abs: (b) => b.abs(x()),
  maximum: (b) => b.maximum(x(), y()),
  minimum: (b) => b.minimum(x(), y()),
  min: (b) => b.min(x(), 1, true),
  matMul: (b) => b.matMul(x(), b.reshape(y(), [4, 3])),
  greater: (b) => b.greater(x(), y()),
  isFinite: (b) => b.isFinite(x()),
  logicalAnd: (b) => b.logicalAnd(b.greater(x(), b.scalar(0)), b.isFinite(y())),
  allRows: (b) => b.allRows(b.greater(x(), b.scalar(-1))),
  maskToFloat: (b) => b.maskToFloat(b.less(x(), y())),
  topkValues: (b) => b.topkValues(b.tensor([1, 3, 3, 2, 5, 5, 5, 5, 0, -1, 2, -3], [3, 4]), 2),
  topkMask: (b) => b.topkMask(b.tensor([1, 3, 3, 2, 5, 5, 5, 5, 0, -1, 2, -3], [3, 4]), 3),
  sliceColumns: (b) => b.sliceColumns(x(), 1, 2),
  stopGradient: (b) => b.stopGradient(x()),
};

/** The same method as a function of one input, for gradients (finite inputs away from kinks but with ties). */
const differentiable: Partial<
  Record<DerivedMethod, (b: Backend<Float64Tensor>, t: Float64Tensor) => Float64Tensor>
> = {
  square: (b, t) => b.square(t),
  abs: (b, t) => b.abs(t),
  maximum: (b, t) => b.maximum(t, b.tensor([1, 2, -1, 0, 3, 2.5], [2, 3])),
  minimum: (b, t) => b.minimum(b.tensor([1, 2, -1, 0, 3, 2.5], [2, 3]), t),
  min: (b, t) => b.min(t, 0, false),
  matMul: (b, t) => b.matMul(b.tensor([1, -2, 0.5, 3, 2, -1], [2, 1, 3]), b.reshape(t, [3, 2])),
  topkValues: (b, t) => b.topkValues(t, 2),
  sliceColumns: (b, t) => b.sliceColumns(t, 1, 2),
  stopGradient: (b, t) => b.mul(b.stopGradient(t), t),
};
const G = [1, -2, 0, 3, 3, 0.5];

describe('derived methods equal the float64 backend’s direct ones', () => {
  for (const name of DERIVED_METHODS) {
    if (name === 'read') continue; // asynchronous: its own case below
    it(`${name}: values (ties, ±0, NaN, ±∞)`, () => {
      const a = uses[name](derived);
      const e = uses[name](direct);
      expect(a.shape).toEqual(e.shape);
      // Object.is: the same NaN, the same sign of zero (0 and −0 count as equal only for abs and min).
      expect(read(a).map((v) => v + 0)).toEqual(read(e).map((v) => v + 0));
    });
    const f = differentiable[name];
    if (f !== undefined) {
      it(`${name}: gradients`, () => {
        const w = direct.tensor([0.5, -1, 2, 1.5, -0.25, 3], [2, 3]);
        const loss = (b: Backend<Float64Tensor>) => (t: Float64Tensor) => {
          const out = f(b, t);
          return b.mul(out, b.reshape(b.sliceColumns(b.reshape(w, [1, 6]), 0, out.data.length), out.shape));
        };
        const at = direct.tensor(G, [2, 3]);
        expect(read(grad(loss(derived), at))).toEqual(read(grad(loss(direct), at)));
      });
    }
  }

  it('read: resolves with the entries readSync gives (ties, ±0, NaN, ±∞)', async () => {
    const t = x();
    let syncReads = 0;
    const counted = completeBackend({
      ...primitivesOf(direct),
      readSync: (u: Float64Tensor) => {
        syncReads++;
        return direct.readSync(u);
      },
    });
    const pending = counted.read(t);
    expect(syncReads).toBe(0); // not before the caller awaits
    expect(Array.from(await pending).map((v) => v + 0)).toEqual(read(t).map((v) => v + 0));
    expect(syncReads).toBe(1); // the derived read is readSync, one microtask later
    expect(Array.from(await direct.read(t))).toEqual(read(t));
  });

  it('the list of derived methods is the documented one', () => {
    expect(DERIVED_METHODS).toHaveLength(18);
    expect(Object.isFrozen(DERIVED_METHODS)).toBe(true);
  });
});

describe('completeBackend', () => {
  it("keeps a backend's own methods, and derived methods use them", () => {
    let calls = 0;
    const b = completeBackend({
      ...primitivesOf(direct),
      maskToFloat: (m: Float64Tensor) => {
        calls++;
        return direct.maskToFloat(m);
      },
    });
    expect(read(b.allRows(b.greater(x(), b.scalar(-3))))).toEqual([1, 0, 0]);
    expect(calls).toBe(1); // allRows is derived from maskToFloat
    expect(b.square).not.toBe(direct.square);
  });

  it('keeps getters, the fused group and prefetchNormal', () => {
    let device = 'a';
    const fused = { fit: () => undefined };
    const prefetchNormal = () => undefined;
    const b = completeBackend({
      ...primitivesOf(direct),
      get name() {
        return `dev-${device}`;
      },
      fused,
      prefetchNormal,
    });
    device = 'b';
    expect(b.name).toBe('dev-b');
    expect(b.fused).toBe(fused);
    expect(b.prefetchNormal).toBe(prefetchNormal);
  });

  it('does not change its argument', () => {
    const p = primitivesOf(direct);
    completeBackend(p);
    expect('square' in p).toBe(false);
  });

  it('throws a TypeError naming a missing or wrong method', () => {
    const { exp: _exp, ...noExp } = primitivesOf(direct);
    expect(() => completeBackend(noExp as BackendPrimitives<Float64Tensor>)).toThrow(TypeError);
    expect(() => completeBackend(noExp as BackendPrimitives<Float64Tensor>)).toThrow(/primitives\.exp/);
    const badSquare = { ...primitivesOf(direct), square: 3 } as unknown as BackendPrimitives<Float64Tensor>;
    expect(() => completeBackend(badSquare)).toThrow(/primitives\.square/);
    const noName = { ...primitivesOf(direct), name: '' };
    expect(() => completeBackend(noName)).toThrow(TypeError);
    expect(() => completeBackend(null as unknown as BackendPrimitives<Float64Tensor>)).toThrow(TypeError);
  });

  it('sliceColumns and fill validate their arguments', () => {
    expect(() => derived.sliceColumns(x(), 3, 2)).toThrow(RangeError);
    expect(() => derived.fill([2, -1], 0)).toThrow(RangeError);
    expect(() => derived.matMul(x(), x())).toThrow(/matMul: cannot multiply a \[3, 4\] by b \[3, 4\]/);
  });
});
