import { describe, expect, it } from 'vitest';
import { EPISODE_STEPS, makeEnv, simulationOf } from './env.js';
import { capsule, cylinder, sphere, withPosVel } from './env.test-utils.js';
import { loadRuntime } from './runtime.js';
import { TASK_NAMES, type TaskName } from './tasks/index.js';

/** The suite's documented numbers: physics and control time steps, action and observation sizes. */
const SUITE: Record<
  TaskName,
  { timestep: number; control: number; actionDim: number; observationSize: number }
> = {
  'cartpole-swingup': { timestep: 0.01, control: 0.01, actionDim: 1, observationSize: 5 },
  'reacher-easy': { timestep: 0.02, control: 0.02, actionDim: 2, observationSize: 6 },
  'cheetah-run': { timestep: 0.01, control: 0.01, actionDim: 6, observationSize: 17 },
  'walker-walk': { timestep: 0.0025, control: 0.025, actionDim: 6, observationSize: 24 },
  'finger-spin': { timestep: 0.01, control: 0.02, actionDim: 2, observationSize: 9 },
  'cup-catch': { timestep: 0.002, control: 0.02, actionDim: 2, observationSize: 8 },
};

/** Total masses: given in the models (cheetah, cart-pole) or from the geoms' volumes at density 1000 kg/m³. */
const MASS: Record<TaskName, number> = {
  'cartpole-swingup': 1 + 0.1,
  'reacher-easy': capsule(0.01, 0.12) + capsule(0.01, 0.1) + sphere(0.01),
  'cheetah-run': 14,
  'walker-walk': capsule(0.07, 0.6) + 2 * (capsule(0.05, 0.45) + capsule(0.04, 0.5) + capsule(0.05, 0.2)),
  'finger-spin':
    cylinder(0.034, 0.066) +
    capsule(0.03, 0.17) +
    capsule(0.028, 0.16) +
    capsule(0.03, 0.031) +
    2 * capsule(0.04, 0.18) +
    cylinder(0.02, 0.09),
  'cup-catch':
    capsule(0.008, 0.075) * 2 + capsule(0.008, Math.SQRT2 * 0.025) * 2 + capsule(0.008, 0.05) + sphere(0.025),
};

describe('makeEnv: the suite’s documented numbers', () => {
  for (const name of TASK_NAMES) {
    it(`${name}: time steps, sizes and total mass`, async () => {
      const env = await makeEnv(name, { seed: 1 });
      const s = SUITE[name];
      expect(env.timestep).toBe(s.timestep);
      expect(env.controlTimestep).toBe(s.control);
      expect(env.actionDim).toBe(s.actionDim);
      expect(env.observationSize).toBe(s.observationSize);
      expect(env.reset()).toHaveLength(s.observationSize);
      const sim = simulationOf(env);
      expect(sim.substeps).toBe(Math.round(s.control / s.timestep));
      expect((sim.model.body_subtreemass as Float64Array)[0]).toBeCloseTo(MASS[name], 10);
      env.dispose();
    });
  }
});

describe('rewards of known states', () => {
  it('cheetah-run: 0.5 per step at 5 m/s (in the air, so the speed holds over the step), 1 at 12 m/s', async () => {
    const env = await makeEnv('cheetah-run');
    const state = env.getState();
    // qpos: rootx, rootz (raised 1.5 m), rooty, six joints at 0.
    env.setState(withPosVel(env, state, [0, 1.5], [5]));
    expect(env.step(new Float64Array(6)).reward).toBeCloseTo(0.5, 10);
    env.setState(withPosVel(env, state, [0, 1.5], [12]));
    expect(env.step(new Float64Array(6)).reward).toBe(1);
    env.dispose();
  });

  it('walker-walk: 1 upright above 1.2 m at ≥ 1 m/s; (5·0.75 + 1)/6 at 0.75 m/s; 1/6 at rest', async () => {
    const env = await makeEnv('walker-walk');
    const state = env.getState();
    // qpos: rootz (+0.1: the torso at 1.4 m, feet off the floor), rootx, rooty, joints at 0.
    env.setState(withPosVel(env, state, [0.1], [0, 1.5]));
    expect(env.step(new Float64Array(6)).reward).toBe(1);
    env.setState(withPosVel(env, state, [0.1], [0, 0.75]));
    expect(env.step(new Float64Array(6)).reward).toBeCloseTo((5 * 0.75 + 1) / 6, 9);
    env.setState(withPosVel(env, state, [0.1], [0, 0]));
    expect(env.step(new Float64Array(6)).reward).toBeCloseTo(1 / 6, 12);
    env.dispose();
  });

  it('cartpole-swingup: 1 balanced at the centre, 0 hanging straight down', async () => {
    const env = await makeEnv('cartpole-swingup');
    const state = env.getState();
    env.setState(withPosVel(env, state, [0, 0], [0, 0]));
    expect(env.step([0]).reward).toBeCloseTo(1, 12);
    env.setState(withPosVel(env, state, [0, Math.PI], [0, 0]));
    expect(env.step([0]).reward).toBeCloseTo(0, 12);
    env.dispose();
  });

  it('reacher-easy: 1 with the finger on the target, 0 far from it', async () => {
    const env = await makeEnv('reacher-easy');
    const state = env.getState();
    // Arm straight along +x: the finger at x = 0.12 + 0.12 = 0.24.
    env.setState({ ...withPosVel(env, state, [0, 0], [0, 0]), params: Float64Array.of(0.24, 0) });
    expect(env.step([0, 0]).reward).toBe(1);
    env.setState({ ...withPosVel(env, state, [0, 0], [0, 0]), params: Float64Array.of(-0.15, 0.1) });
    expect(env.step([0, 0]).reward).toBe(0);
    env.dispose();
  });
});

describe('rewards of known states (sparse tasks)', () => {
  it('finger-spin: 1 while the spinner turns at ≤ −15 rad/s, 0 the other way', async () => {
    const env = await makeEnv('finger-spin');
    const state = env.getState();
    // qpos: proximal (at its reference −90°: hanging down, clear of the spinner), distal, spinner hinge.
    env.setState(withPosVel(env, state, [-Math.PI / 2, 0, 0], [0, 0, -20]));
    expect(env.step([0, 0]).reward).toBe(1);
    env.setState(withPosVel(env, state, [-Math.PI / 2, 0, 0], [0, 0, 20]));
    expect(env.step([0, 0]).reward).toBe(0);
    env.dispose();
  });

  it('cup-catch: 1 with the ball resting in the cup, 0 with it below', async () => {
    const env = await makeEnv('cup-catch');
    const state = env.getState();
    // qpos: cup x, cup z, ball x, ball z (slides from the ball's body at z = 0.2; the target box is at z = 0.55).
    env.setState(withPosVel(env, state, [0, 0, 0, 0.35], [0, 0, 0, 0]));
    expect(env.step([0, 0]).reward).toBe(1);
    env.setState(withPosVel(env, state, [0, 0, 0.1, 0.1], [0, 0, 0, 0]));
    expect(env.step([0, 0]).reward).toBe(0);
    env.dispose();
  });
});

describe('an undamped hinge conserves energy', () => {
  it('cart-pole with damping removed, RK4, 1000 steps: |ΔE| < 1e-6 J; semi-implicit Euler drifts by > 1e-3 J', async () => {
    // The pole's energy scale is m g l/2 = 0.1 · 9.81 · 0.5 ≈ 0.49 J and its
    // frequency ω ≈ √(3g/2l) ≈ 3.8 rad/s, so RK4's global error per unit energy,
    // O((ωh)⁴) = (0.038)⁴ ≈ 2e-6, bounds the drift by about 1e-6 J over the run
    // (measured: 2e-8 J). The Euler run shows the check can fail.
    const env = await makeEnv('cartpole-swingup');
    const { mj, model, data } = simulationOf(env);
    (model.dof_damping as Float64Array).fill(0);
    const drift = (integrator: number) => {
      model.opt.integrator = integrator;
      mj.mj_resetData(model, data);
      (data.qpos as Float64Array)[1] = Math.PI / 2;
      mj.mj_forward(model, data);
      const energy = () => {
        const e = data.energy as Float64Array;
        return (e[0] as number) + (e[1] as number);
      };
      const e0 = energy();
      let worst = 0;
      for (let i = 0; i < 1000; i++) {
        mj.mj_step(model, data);
        mj.mj_forward(model, data);
        worst = Math.max(worst, Math.abs(energy() - e0));
      }
      return worst;
    };
    expect(drift(mj.mjtIntegrator.mjINT_RK4.value)).toBeLessThan(1e-6);
    expect(drift(mj.mjtIntegrator.mjINT_EULER.value)).toBeGreaterThan(1e-3);
    env.dispose();
  });
});

describe('episodes and randomisation', () => {
  it('an episode is 1000 / actionRepeat steps; step rewards sum the repeated control steps', async () => {
    const env = await makeEnv('cartpole-swingup', { seed: 3, actionRepeat: 8 });
    expect(env.episodeLength).toBe(EPISODE_STEPS / 8);
    env.reset();
    let steps = 0;
    let done = false;
    let maxReward = 0;
    while (!done) {
      const r = env.step([0.3]);
      done = r.done;
      maxReward = Math.max(maxReward, r.reward);
      steps++;
    }
    expect(steps).toBe(125);
    expect(maxReward).toBeLessThanOrEqual(8);
    expect(env.getState().controlSteps).toBe(1000);
    env.dispose();
  });

  it('the same seed gives the same initial states and rewards; another seed differs', async () => {
    const run = async (seed: number) => {
      const env = await makeEnv('walker-walk', { seed, actionRepeat: 2 });
      const out = [...env.reset()];
      for (let i = 0; i < 5; i++) out.push(env.step(new Float64Array(6).fill(0.2)).reward);
      out.push(...env.reset());
      env.dispose();
      return out;
    };
    const a = await run(11);
    expect(await run(11)).toEqual(a);
    expect(await run(12)).not.toEqual(a);
  });

  it('initial states follow the suite’s distributions', async () => {
    const cart = await makeEnv('cartpole-swingup', { seed: 5 });
    const reacher = await makeEnv('reacher-easy', { seed: 5 });
    const walker = await makeEnv('walker-walk', { seed: 5 });
    const wrist = (160 * Math.PI) / 180;
    for (let i = 0; i < 20; i++) {
      cart.reset();
      const q = simulationOf(cart).v.qpos;
      expect(Math.abs(q[0] as number)).toBeLessThan(0.06); // 0.01 · N(0, 1), 6σ
      expect(Math.abs((q[1] as number) - Math.PI)).toBeLessThan(0.06);
      reacher.reset();
      const [tx, ty] = reacher.getState().params as unknown as [number, number];
      expect(Math.hypot(tx, ty)).toBeGreaterThanOrEqual(0.05);
      expect(Math.hypot(tx, ty)).toBeLessThanOrEqual(0.2);
      expect(Math.abs(simulationOf(reacher).v.qpos[1] as number)).toBeLessThanOrEqual(wrist);
      walker.reset();
      const wq = simulationOf(walker).v.qpos;
      expect(Math.abs(wq[2] as number)).toBeLessThanOrEqual(Math.PI); // rooty ∈ [−π, π)
      for (const j of [3, 6])
        expect((wq[j] as number) >= (-20 * Math.PI) / 180 && (wq[j] as number) <= (100 * Math.PI) / 180).toBe(
          true,
        );
    }
    for (const e of [cart, reacher, walker]) e.dispose();
  });
});

describe('bad input leaves the simulation untouched', () => {
  it('unknown task names and options', async () => {
    await expect(makeEnv('cheetah-walk' as TaskName)).rejects.toThrow(
      /unknown task "cheetah-walk"; valid names: cartpole-swingup, reacher-easy, cheetah-run, walker-walk/,
    );
    await expect(makeEnv('cheetah-run', { sed: 1 } as never)).rejects.toThrow(/unknown makeEnv option "sed"/);
    await expect(makeEnv('cheetah-run', { actionRepeat: 3 })).rejects.toThrow(/must divide 1000/);
    await expect(makeEnv('cheetah-run', { seed: -1 })).rejects.toThrow(RangeError);
  });

  it('actions of the wrong length, NaN, ±∞ or outside [−1, 1]', async () => {
    const env = await makeEnv('cheetah-run', { seed: 2 });
    const before = env.getState();
    const cases: [unknown, RegExp, typeof Error][] = [
      [[0, 0, 0], /action must have length 6 for cheetah-run, received length 3/, RangeError],
      [[0, 0, Number.NaN, 0, 0, 0], /action\[2\] must be a finite number, received NaN/, RangeError],
      [
        [0, 0, 0, 0, 0, Number.POSITIVE_INFINITY],
        /action\[5\] must be a finite number, received Infinity/,
        RangeError,
      ],
      [
        [0, Number.NEGATIVE_INFINITY, 0, 0, 0, 0],
        /action\[1\] must be a finite number, received -Infinity/,
        RangeError,
      ],
      [[0, 0, 0, 1.5, 0, 0], /action\[3\] must be in \[-1, 1\]/, RangeError],
      [[0, 0, 0, '1', 0, 0], /action\[3\] must be a number/, TypeError],
      [undefined, /action must be an array of 6 numbers/, TypeError],
    ];
    for (const [action, message, type] of cases) {
      expect(() => env.step(action as number[])).toThrow(type);
      expect(() => env.step(action as number[])).toThrow(message);
    }
    const after = env.getState();
    expect(Array.from(after.physics)).toEqual(Array.from(before.physics));
    expect(after.controlSteps).toBe(before.controlSteps);
    env.dispose();
  });

  it('invalid states', async () => {
    const env = await makeEnv('reacher-easy');
    const state = env.getState();
    const before = Array.from(env.getState().physics);
    expect(() => env.setState({ ...state, task: 'cheetah-run' })).toThrow(
      /state.task must be "reacher-easy"/,
    );
    expect(() => env.setState({ ...state, physics: state.physics.subarray(1) })).toThrow(
      /state.physics must have length/,
    );
    const nan = Float64Array.from(state.physics);
    nan[3] = Number.NaN;
    expect(() => env.setState({ ...state, physics: nan })).toThrow(
      /state.physics\[3\] must be finite, received NaN/,
    );
    expect(() => env.setState({ ...state, params: new Float64Array(1) })).toThrow(
      /state.params must have length 2/,
    );
    expect(Array.from(env.getState().physics)).toEqual(before);
    env.dispose();
    expect(() => env.step([0, 0])).toThrow(/after dispose/);
  });
});

describe('faults', () => {
  it('a diverging simulation gives a NaN reward, is counted, and does not hang', async () => {
    const env = await makeEnv('cheetah-run');
    env.setState(withPosVel(env, env.getState(), [0, 0.5], [0, 0, 1e11]));
    const r = env.step(new Float64Array(6));
    expect(r.reward).toBeNaN();
    expect(r.diverged).toBe(true);
    expect(env.divergences).toBe(1);
    env.reset();
    const ok = env.step(new Float64Array(6));
    expect(Number.isFinite(ok.reward)).toBe(true);
    expect(env.divergences).toBe(1);
    env.dispose();
  });

  it('dispose() frees the WebAssembly memory: 1000 create/reset/step/dispose cycles do not grow it', async () => {
    const { memory } = await loadRuntime();
    const cycle = async () => {
      const env = await makeEnv('cartpole-swingup');
      env.reset();
      env.step([0.1]);
      env.dispose();
    };
    for (let i = 0; i < 20; i++) await cycle(); // warm-up: the allocator's first growth
    const warm = memory.buffer.byteLength;
    for (let i = 0; i < 1000; i++) await cycle();
    expect(memory.buffer.byteLength).toBe(warm);
    // Control: environments that are not disposed do grow it (MuJoCo gives each data about 13 MB here).
    const kept = [];
    for (let i = 0; i < 10; i++) kept.push(await makeEnv('cartpole-swingup'));
    expect(memory.buffer.byteLength).toBeGreaterThan(warm);
    for (const env of kept) env.dispose();
  });
});
