import { describe, expect, it } from 'vitest';
import { makeEnv, simulationOf } from './env.js';
import { renderSvg } from './render.js';
import { TASK_NAMES } from './tasks/index.js';

describe('renderSvg', () => {
  it('draws one shape per geom for every task, sized by the width option', async () => {
    for (const name of TASK_NAMES) {
      const env = await makeEnv(name, { seed: 1 });
      const svg = renderSvg(env, { width: 300 });
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="300"')).toBe(true);
      expect(svg.trim().endsWith('</svg>')).toBe(true);
      const shapes = svg.match(/<(circle|line|polygon|rect) /g) ?? [];
      // Background rect + one shape per geom (+ floor ticks for side views).
      expect(shapes.length).toBeGreaterThanOrEqual(1 + simulationOf(env).model.ngeom);
      expect(svg).not.toMatch(/NaN|undefined/);
      env.dispose();
    }
  });

  it('places a capsule where MuJoCo puts it: cheetah’s torso spans x ∈ [−0.5, 0.5] around the window centre', async () => {
    const env = await makeEnv('cheetah-run', { seed: 0 });
    const sim = simulationOf(env);
    // Torso level at the origin: qpos all zero (rootz keeps the body frame at 0.7 m).
    env.setState({
      ...env.getState(),
      physics: (() => {
        const p = Float64Array.from(env.getState().physics);
        p.fill(0, 1, 1 + sim.model.nq + sim.model.nv);
        return p;
      })(),
    });
    const svg = renderSvg(env, { width: 320 }); // 3.2 m window: 100 px per metre, centred on the torso
    const torso = svg.match(
      /<line x1="([\d.]+)" y1="([\d.]+)" x2="([\d.]+)" y2="([\d.]+)"[^>]*stroke-width="9.2"/,
    );
    expect(torso).not.toBeNull();
    const [x1, y1, x2, y2] = (torso as RegExpMatchArray).slice(1, 5).map(Number) as [
      number,
      number,
      number,
      number,
    ];
    expect(Math.min(x1, x2)).toBeCloseTo(160 - 50, 1);
    expect(Math.max(x1, x2)).toBeCloseTo(160 + 50, 1);
    // z = 0.7 m in a window centred at 0.55 m, 160 px tall: y = (0.55 + 0.8 − 0.7) · 100 = 65.
    expect(y1).toBeCloseTo(65, 1);
    expect(y2).toBeCloseTo(65, 1);
    env.dispose();
  });

  it('draws a given state and leaves the environment as it was', async () => {
    const env = await makeEnv('cartpole-swingup', { seed: 2 });
    const start = env.getState();
    for (let i = 0; i < 20; i++) env.step([1]);
    const now = env.getState();
    const svgStart = renderSvg(env, { state: start });
    expect(Array.from(env.getState().physics)).toEqual(Array.from(now.physics));
    expect(renderSvg(env)).not.toBe(svgStart);
    env.setState(start);
    expect(renderSvg(env)).toBe(svgStart);
    expect(() => renderSvg(env, { width: 0 })).toThrow(RangeError);
    expect(() => renderSvg(env, { widht: 10 } as never)).toThrow(
      /unknown renderSvg option "widht"; did you mean "width"/,
    );
    env.dispose();
  });
});
