import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EnvState, type MujocoEnv, makeEnv } from './env.js';
import { withPosVel } from './env.test-utils.js';
import {
  createRolloutPool,
  createRolloutPoolWithScript,
  failWorkerForTesting,
  type RolloutPool,
} from './pool.js';

/** Deterministic pseudo-random actions in [−1, 1]. */
function actions(length: number, seed: number): Float32Array {
  return Float32Array.from({ length }, (_, i) => Math.sin(1.7 * i + seed) * 0.9);
}

/** The return of one sequence replayed in the main thread with env.step. */
function replay(env: MujocoEnv, state: EnvState, seq: Float32Array, horizon: number): number {
  env.setState(state);
  const m = env.actionDim;
  let total = 0;
  for (let h = 0; h < horizon; h++) total += env.step(seq.subarray(h * m, (h + 1) * m)).reward;
  return total;
}

describe('rollout pool: deterministic replay, bit for bit, worker vs main thread', () => {
  let pool: RolloutPool;
  let env: MujocoEnv;
  beforeAll(async () => {
    [pool, env] = await Promise.all([
      createRolloutPool('walker-walk', { workers: 2, actionRepeat: 2 }),
      makeEnv('walker-walk', { seed: 4, actionRepeat: 2 }),
    ]);
  });
  afterAll(async () => {
    await pool.close();
    env.dispose();
  });

  it('walker-walk (contacts, 10 physics steps per control step): two start states × three sequences', async () => {
    env.reset();
    for (let i = 0; i < 40; i++) env.step(actions(6, i));
    const first = env.getState();
    for (let i = 0; i < 10; i++) env.step(actions(6, 100 + i));
    const second = env.getState();
    const H = 5;
    const m = env.actionDim;
    const seqs = actions(6 * H * m, 9);
    const returns = await pool.rollout([first, second], seqs, { horizon: H, actionDim: m });
    expect(returns).toHaveLength(6);
    for (let q = 0; q < 6; q++) {
      const start = q < 3 ? first : second;
      const expected = replay(env, start, seqs.subarray(q * H * m, (q + 1) * H * m), H);
      expect(Object.is(returns[q], expected)).toBe(true);
    }
    // Different sequences from one state give different returns (the comparison above is not vacuous).
    expect(new Set(Array.from(returns)).size).toBe(6);
    const stats = pool.stats();
    expect(stats.sequences).toBe(6);
    expect(stats.physicsSteps).toBe(6 * H * 2 * 10);
    expect(stats.simulatorMs).toBeLessThanOrEqual(stats.wallMs);
  });

  it('concurrent calls are queued and give the same returns as one after the other', async () => {
    const s = env.getState();
    const a = actions(4 * 2 * 6, 1);
    const b = actions(3 * 2 * 6, 2);
    const [ra, rb] = await Promise.all([
      pool.rollout([s], a, { horizon: 2 }),
      pool.rollout([s], b, { horizon: 2 }),
    ]);
    expect(Array.from(await pool.rollout([s], a, { horizon: 2 }))).toEqual(Array.from(ra));
    expect(Array.from(await pool.rollout([s], b, { horizon: 2 }))).toEqual(Array.from(rb));
  });

  it('rejects bad calls with typed errors naming the argument', async () => {
    const s = env.getState();
    const m = env.actionDim;
    await expect(pool.rollout([s], new Float32Array(5), { horizon: 2 })).rejects.toThrow(
      /actionSequences must have length count × horizon × actionDim = count × 2 × 6.*received length 5/,
    );
    const nan = new Float32Array(2 * m);
    nan[7] = Number.NaN;
    await expect(pool.rollout([s], nan, { horizon: 2 })).rejects.toThrow(
      /actionSequences\[7\] \(sequence 0, step 1, actuator 1\) must be a finite number, received NaN/,
    );
    const big = new Float32Array(2 * m);
    big[0] = 2;
    await expect(pool.rollout([s], big, { horizon: 2 })).rejects.toThrow(RangeError);
    await expect(pool.rollout([], new Float32Array(m), { horizon: 1 })).rejects.toThrow(TypeError);
    await expect(
      pool.rollout([{ ...s, task: 'cheetah-run' }], new Float32Array(m), { horizon: 1 }),
    ).rejects.toThrow(/states\[0\].task must be "walker-walk"/);
    await expect(pool.rollout([s], new Float32Array(m), { horizon: 0 })).rejects.toThrow(/options.horizon/);
    await expect(pool.rollout([s], new Float32Array(m), { horizon: 1, actionDim: 2 })).rejects.toThrow(
      /actionDim must be 6/,
    );
    await expect(pool.rollout([s], new Float32Array(m), { horizon: 1, horizn: 1 } as never)).rejects.toThrow(
      /unknown rollout option "horizn"; did you mean "horizon"/,
    );
    await expect(pool.rollout([s, s], new Float32Array(3 * m), { horizon: 1 })).rejects.toThrow(
      /multiple of states.length = 2/,
    );
  });

  it('a diverging sequence returns NaN and is counted; the others are unaffected', async () => {
    const ok = env.getState();
    const bad = withPosVel(env, ok, [0.1], [0, 0, 1e11]);
    const m = env.actionDim;
    const before = pool.stats().divergences;
    const returns = await pool.rollout([ok, bad], new Float32Array(2 * 3 * m), { horizon: 3 });
    expect(Number.isFinite(returns[0])).toBe(true);
    expect(returns[1]).toBeNaN();
    expect(pool.stats().divergences - before).toBe(1);
  });
});

describe('rollout pool: faults and shutdown', () => {
  it('a crashed worker rejects the call with a clear error, is started again, and the pool stays usable', async () => {
    const env = await makeEnv('cartpole-swingup', { seed: 1 });
    const pool = await createRolloutPool('cartpole-swingup', { workers: 2, actionRepeat: 8 });
    const state = env.getState();
    const seqs = actions(50 * 4, 3);
    const good = await pool.rollout([state], seqs, { horizon: 4 });
    for (const how of ['exit', 'throw'] as const) {
      // The worker dies on the message before the call's: the call is in flight when it goes.
      failWorkerForTesting(pool, 1, how);
      const call = pool.rollout([state], seqs, { horizon: 4 });
      await expect(call).rejects.toThrow(
        how === 'exit'
          ? /rollout worker 1 exited unexpectedly with code 7/
          : /rollout worker 1 crashed: worker failure requested/,
      );
      const again = await pool.rollout([state], seqs, { horizon: 4 });
      expect(Array.from(again)).toEqual(Array.from(good));
    }
    expect(pool.stats().respawns).toBe(2);
    await pool.close();
    await pool.close(); // idempotent
    await expect(pool.rollout([state], seqs, { horizon: 4 })).rejects.toThrow(
      /cartpole-swingup rollout pool is closed/,
    );
    env.dispose();
  });

  it('close() during a call rejects it', async () => {
    const env = await makeEnv('cartpole-swingup');
    const pool = await createRolloutPool('cartpole-swingup', { workers: 1 });
    const call = pool.rollout([env.getState()], actions(3000 * 8, 1), { horizon: 8 });
    await new Promise((r) => setTimeout(r, 20));
    await pool.close();
    await expect(call).rejects.toThrow(/closed/);
    env.dispose();
  });

  it('a worker that fails while the pool starts rejects the creation with its error', async () => {
    const broken = new URL('data:text/javascript,throw new Error("no MuJoCo here")');
    await expect(createRolloutPoolWithScript('cheetah-run', { workers: 2 }, broken)).rejects.toThrow(
      /rollout worker [01] crashed: no MuJoCo here/,
    );
  });

  it('bad pool options', async () => {
    await expect(createRolloutPool('cheetah-run', { workers: 0 })).rejects.toThrow(
      /options.workers must be an integer ≥ 1/,
    );
    await expect(createRolloutPool('cheetah-run', { actionRepeat: 7 })).rejects.toThrow(/must divide 1000/);
    await expect(createRolloutPool('humanoid-run' as never)).rejects.toThrow(/valid names/);
  });

  it('the process exits cleanly, with close() and without', () => {
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    for (const close of [true, false]) {
      const program = [
        `import { createRolloutPool, makeEnv } from ${JSON.stringify(dist)};`,
        "const env = await makeEnv('reacher-easy');",
        "const pool = await createRolloutPool('reacher-easy', { workers: 1 });",
        'const r = await pool.rollout([env.getState()], new Float32Array(4 * 3 * 2), { horizon: 3 });',
        close ? 'await pool.close();' : '',
        "console.log('done', r.length);",
      ].join('\n');
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', program], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(out.trim()).toBe('done 4');
    }
  });
});
