import { describe, expect, it } from 'vitest';
import { assertTensorShape, formatShapePattern, matchesShape } from './shapes.js';

/** A stand-in tensor class: the checks only read `shape`. */
class FakeTensor {
  constructor(readonly shape: number[]) {}
}
const tensor = (...shape: number[]) => new FakeTensor(shape);

describe('assertTensorShape', () => {
  it('accepts tensors whose shape matches, with * and … wildcards', () => {
    const x = tensor(2, 3, 5);
    expect(() => assertTensorShape('x', x, [2, 3, 5])).not.toThrow();
    expect(() => assertTensorShape('x', x, [null, 3, null])).not.toThrow();
    expect(() => assertTensorShape('x', x, ['...', 5])).not.toThrow();
    expect(() => assertTensorShape('x', x, [2, '...'])).not.toThrow();
    expect(() => assertTensorShape('x', x, [2, '...', 3, 5])).not.toThrow(); // … matches no axis
    expect(() => assertTensorShape('x', x, [null, '...', 5])).not.toThrow();
  });

  it('throws a RangeError naming the argument, the pattern and the shape received', () => {
    const x = tensor(4, 3);
    expect(() => assertTensorShape('initialState', x, [null, 5])).toThrow(
      new RangeError('initialState must have shape [*, 5], received [4, 3]'),
    );
    expect(() => assertTensorShape('states', x, [null, null, '...', 3])).toThrow(
      new RangeError('states must have shape [*, *, …, 3], received [4, 3]'),
    );
    expect(() => assertTensorShape('x', x, [4])).toThrow(RangeError);
  });

  it('throws a TypeError for anything that is not a tensor', () => {
    expect(() => assertTensorShape('controls', [[1]], [1, 1])).toThrow(
      new TypeError('controls must be a tensor of shape [1, 1], received array of length 1'),
    );
    expect(() => assertTensorShape('controls', undefined, ['...', 1])).toThrow(
      new TypeError('controls must be a tensor of shape […, 1], received undefined'),
    );
    expect(() => assertTensorShape('c', { shape: [1] }, [1])).toThrow(TypeError); // a plain record
    expect(() => assertTensorShape('c', new FakeTensor(['1' as unknown as number]), [1])).toThrow(TypeError);
  });

  it('matches shapes exactly as the pattern says (property over small shapes)', () => {
    const shapes: number[][] = [[], [1], [2], [1, 2], [2, 1], [2, 2, 2], [3, 1, 2, 5]];
    for (const shape of shapes) {
      expect(matchesShape(shape, shape)).toBe(true);
      expect(matchesShape(shape, ['...'])).toBe(true);
      expect(
        matchesShape(
          shape,
          shape.map(() => null),
        ),
      ).toBe(true);
      expect(matchesShape(shape, [...shape, 1])).toBe(false);
      expect(matchesShape(shape, [null, '...'])).toBe(shape.length >= 1);
      if (shape.length > 0) {
        const other = [...shape];
        other[other.length - 1] = (other.at(-1) as number) + 1;
        expect(matchesShape(shape, other)).toBe(false);
        expect(matchesShape(shape, ['...', shape.at(-1) as number])).toBe(true);
      }
    }
    expect(() => matchesShape([1], ['...', '...'])).toThrow(TypeError);
  });

  it('renders a pattern with * and …', () => {
    expect(formatShapePattern([null, '...', 4])).toBe('[*, …, 4]');
  });
});
