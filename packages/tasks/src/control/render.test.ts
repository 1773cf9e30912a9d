import { describe, expect, it } from 'vitest';
import { renderRollout, renderState } from './render.js';

/** Centre of the first circle filled with `fill`. */
function circle(svg: string, fill: string): [number, number] {
  const m = svg.match(new RegExp(`<circle cx="([-\\d.]+)" cy="([-\\d.]+)" r="[\\d.]+" fill="${fill}"`));
  if (m === null) throw new Error(`no circle filled ${fill}`);
  return [Number(m[1]), Number(m[2])];
}

describe('renderState', () => {
  it('draws the pendulum bob above the pivot when upright and to the right at θ = π/2', () => {
    const up = renderState('pendulum', [1, 0, 0]);
    expect(up.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="240" height="240"')).toBe(true);
    const [x, y] = circle(up, '#2563eb');
    expect(x).toBeCloseTo(120, 6);
    expect(y).toBeCloseTo(120 - 0.36 * 240, 6);
    const side = circle(renderState('pendulum', [0, 1, 0]), '#2563eb');
    expect(side[0]).toBeCloseTo(120 + 0.36 * 240, 6);
    expect(side[1]).toBeCloseTo(120, 6);
    // A torque adds an arc and an arrow head; none without it.
    expect(up.includes('<polygon')).toBe(false);
    expect(renderState('pendulum', [1, 0, 0], { control: 1.5 }).includes('<polygon')).toBe(true);
  });

  it('moves the cart with p and leans the pole with θ', () => {
    const at = (p: number) =>
      Number(
        renderState('cartpole', [p, 0, 1, 0, 0]).match(
          /<rect x="([-\d.]+)" y="[-\d.]+" width="[\d.]+" height="[\d.]+" rx/,
        )?.[1],
      );
    expect(at(1) - at(0)).toBeGreaterThan(20);
    expect(at(-1) - at(0)).toBeCloseTo(at(0) - at(1), 6);
    const tip = (svg: string) => {
      const m = svg.match(/stroke="#2563eb" stroke-width/);
      const line = svg.slice(0, m?.index).split('<line').at(-1) ?? '';
      return [Number(line.match(/x2="([-\d.]+)"/)?.[1]), Number(line.match(/y2="([-\d.]+)"/)?.[1])];
    };
    const upright = tip(renderState('cartpole', [0, 0, 1, 0, 0]));
    const right = tip(renderState('cartpole', [0, 0, Math.SQRT1_2, Math.SQRT1_2, 0]));
    expect(right[0]).toBeGreaterThan(upright[0] as number);
    expect(right[1]).toBeGreaterThan(upright[1] as number);
  });

  it('rejects bad states and options', () => {
    expect(() => renderState('pendulum', [1, 0])).toThrow(/state must hold 3 numbers \(pendulum\)/);
    expect(() => renderState('cartpole', [0, 0, 1, 0, Number.NaN])).toThrow(
      /state\[4\] must be a finite number/,
    );
    expect(() => renderState('acrobot' as 'pendulum', [1, 0, 0])).toThrow(
      /system must be 'pendulum' or 'cartpole'/,
    );
    expect(() => renderState('pendulum', [1, 0, 0], { width: 0 })).toThrow(/width must be > 0/);
  });
});

describe('renderRollout', () => {
  const trajectory = (phase: number) =>
    Array.from({ length: 4 }, (_, t) => [Math.cos(phase + 0.3 * t), Math.sin(phase + 0.3 * t), 0.3]);

  it('draws one frame per time step with every trajectory in a grid, and an animation of all frames', () => {
    const r = renderRollout('pendulum', [trajectory(0), trajectory(1), trajectory(2)], {
      columns: 2,
      cellWidth: 100,
      labels: ['a', 'b', '<c>'],
      controls: [
        [1, 1, 1],
        [0, 0, 0],
        [-1, -1, -1],
      ],
    });
    expect(r.frames).toHaveLength(4);
    expect([r.width, r.height]).toEqual([200, 222]);
    for (const frame of r.frames) {
      expect(frame.startsWith('<svg')).toBe(true);
      expect(frame.match(/fill="#2563eb"/g)).toHaveLength(3); // three bobs
    }
    expect(r.frames[2]).toContain('t = 0.10 s (step 2)');
    expect(r.frames[0]).toContain('&lt;c&gt;');
    expect(r.animation.match(/<animate attributeName="display"/g)).toHaveLength(4);
    expect(r.animation).toContain('dur="0.200s"');
    expect(r.animation).toContain('values="none;inline;none" keyTimes="0;0.250000;0.500000"');
    // Played at half speed, the clock still shows simulated time.
    const slow = renderRollout('pendulum', [trajectory(0)], { frameDuration: 0.1, timeStep: 0.05 });
    expect(slow.frames[2]).toContain('t = 0.10 s (step 2)');
    expect(slow.animation).toContain('dur="0.400s"');
  });

  it('rejects ragged trajectories and mismatched labels', () => {
    expect(() => renderRollout('pendulum', [trajectory(0), trajectory(1).slice(1)])).toThrow(
      /trajectory 1 has array of length 3 \(expected 4\)/,
    );
    expect(() => renderRollout('pendulum', [trajectory(0)], { labels: ['a', 'b'] })).toThrow(
      /labels must hold one string per trajectory \(1\)/,
    );
    expect(() => renderRollout('cartpole', [trajectory(0)])).toThrow(/state must hold 5 numbers/);
    expect(() => renderRollout('pendulum', [])).toThrow(/non-empty array/);
  });
});
