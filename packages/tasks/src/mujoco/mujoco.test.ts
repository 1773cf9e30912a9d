// MPC with the true MuJoCo simulator at toy sizes (a few control steps, tens
// of candidates): determinism, replay, the rollout count, resumable studies,
// bad input and the pool's shutdown on errors.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type MujocoEnv, makeEnv, type RolloutPool } from '@dcem/mujoco';
import { deriveSeed } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { jobId } from '../jobs/jobs.js';
import { TASK_SEED_STREAMS } from '../seed-streams.js';
import {
  formatMujocoTable,
  MUJOCO_EPISODE_JOB,
  type MujocoEpisodeRecord,
  type MujocoStudyRow,
  mujocoPlannerConfig,
  mujocoStudyJobs,
  mujocoStudySizes,
  PLANET_ACTION_REPEAT,
  runMujocoEpisodes,
  runMujocoStudy,
} from './index.js';
import { importMujoco } from './mujoco-peer.js';

const pools = vi.hoisted(() => [] as RolloutPool[]);
vi.mock('@dcem/mujoco', async (importOriginal) => {
  const mod = await importOriginal<typeof import('@dcem/mujoco')>();
  return {
    ...mod,
    createRolloutPool: async (...args: Parameters<typeof mod.createRolloutPool>) => {
      const pool = await mod.createRolloutPool(...args);
      pools.push(pool);
      return pool;
    },
  };
});

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

const tiny = { samples: 12, elites: 3, iterations: 2, horizon: 4, workers: 1 } as const;

async function replay(record: MujocoEpisodeRecord): Promise<number[]> {
  const env: MujocoEnv = await makeEnv(record.task, {
    seed: deriveSeed(record.seed, TASK_SEED_STREAMS.mujocoInitialState, record.episode),
    actionRepeat: record.actionRepeat,
  });
  try {
    env.reset();
    return record.actions.map((a) => env.step(a).reward);
  } finally {
    env.dispose();
  }
}

describe('runMujocoEpisodes', () => {
  it('runs MPC episodes whose actions replay to the same rewards, simulating N × iterations × H × R steps per agent step', async () => {
    const before = tf.memory().numTensors;
    const steps: number[] = [];
    const r = await runMujocoEpisodes(
      { env: 'cartpole-swingup', planner: 'cem', episodes: 2, seed: 5, steps: 3, ...tiny },
      { onStep: (info) => steps.push(info.step) },
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(steps).toEqual([-1, 0, 1, 2, -1, 0, 1, 2]);
    expect(r.episodes.map((e) => e.episode)).toEqual([0, 1]);
    for (const e of r.episodes) {
      expect(e.rewards).toHaveLength(3);
      expect(e.actions).toHaveLength(3);
      expect(e.return).toBe(e.rewards.reduce((a, b) => a + b, 0));
      for (const a of e.actions.flat()) expect(Math.abs(a)).toBeLessThanOrEqual(1);
      // The true simulator is the model: the applied actions give the recorded rewards, bit for bit.
      expect(await replay(e)).toEqual(e.rewards);
      // cem: no population decay, no extra mean sample; cartpole has one physics step per control step.
      expect(e.config.rolloutsPerStep).toBe(tiny.samples * tiny.iterations);
      expect(e.physicsSteps).toBe(
        3 * tiny.samples * tiny.iterations * tiny.horizon * PLANET_ACTION_REPEAT['cartpole-swingup'],
      );
      expect(e.nonFinite).toBe(0);
      expect(e.rolloutSeconds).toBeLessThanOrEqual(e.planSeconds);
    }
    expect(r.meanReturn).toBeCloseTo(r.episodes.reduce((a, e) => a + e.return, 0) / 2, 12);
    expect(r.stepsPerSecond).toBeGreaterThan(0);
    expect(r.outsideSimulator).toBeGreaterThanOrEqual(0);
    expect(r.outsideSimulator).toBeLessThan(1);
    expect(pools.at(-1)?.stats().calls).toBe(2 * 3 * tiny.iterations);
  });

  it('plans better than random actions: the planned return beats the mean of random sequences from the same states', async () => {
    // reacher-easy from a seeded start (the target is reached with actions near −1 within 2–3 agent steps):
    // 6 agent steps of MPC against 6 uniform random actions from the same initial state.
    const r = await runMujocoEpisodes({
      env: 'reacher-easy',
      planner: 'cem',
      episodes: 1,
      seed: 2,
      steps: 6,
      samples: 200,
      elites: 10,
      iterations: 5,
      horizon: 6,
      workers: 1,
    });
    const e = r.episodes[0] as MujocoEpisodeRecord;
    const env = await makeEnv('reacher-easy', {
      seed: deriveSeed(2, TASK_SEED_STREAMS.mujocoInitialState, 0),
      actionRepeat: 4,
    });
    let random = 0;
    let seed = 1;
    const uniform = () => {
      seed = (seed * 16807) % 2147483647;
      return (seed / 2147483647) * 2 - 1;
    };
    for (let trial = 0; trial < 8; trial++) {
      env.reset();
      for (let t = 0; t < 6; t++) random += env.step([uniform(), uniform()]).reward / 8;
    }
    env.dispose();
    expect(e.return).toBeGreaterThan(random + 1);
  });

  it('is deterministic and an episode does not depend on the others (firstEpisode)', async () => {
    const settings = { env: 'cup-catch', planner: 'mppi', seed: 3, steps: 2, ...tiny } as const;
    const both = await runMujocoEpisodes({ ...settings, episodes: 2 });
    const second = await runMujocoEpisodes({ ...settings, episodes: 1, firstEpisode: 1 });
    expect(second.episodes[0]?.rewards).toEqual(both.episodes[1]?.rewards);
    expect(second.episodes[0]?.actions).toEqual(both.episodes[1]?.actions);
  });

  it('rejects bad settings with typed errors naming them, before starting a pool', async () => {
    const ok = { env: 'cheetah-run', planner: 'icem', episodes: 1, seed: 0 } as const;
    const count = pools.length;
    await expect(runMujocoEpisodes({ ...ok, env: 'cheetah-walk' as never })).rejects.toThrow(
      /settings\.env must be one of .*cheetah-run.*received "cheetah-walk"/,
    );
    await expect(runMujocoEpisodes({ ...ok, planner: 'pets' as never })).rejects.toThrow(RangeError);
    await expect(runMujocoEpisodes({ ...ok, planner: 'pets' as never })).rejects.toThrow(/settings\.planner/);
    await expect(runMujocoEpisodes({ ...ok, sampels: 10 } as never)).rejects.toThrow(TypeError);
    await expect(runMujocoEpisodes({ ...ok, steps: 251 })).rejects.toThrow(/settings\.steps must be ≤ 250/);
    await expect(runMujocoEpisodes({ ...ok, episodes: 0 })).rejects.toThrow(/settings\.episodes/);
    await expect(runMujocoEpisodes({ ...ok, actionRepeat: 3 })).rejects.toThrow(/divide 1000/);
    await expect(runMujocoEpisodes({ ...ok, samples: 10, elites: 10 })).rejects.toThrow(
      /elites must be < samples/,
    );
    await expect(runMujocoEpisodes({ ...ok, horizon: 1.5 })).rejects.toThrow(/settings\.horizon/);
    await expect(runMujocoEpisodes(ok, { onStep: 3 as never })).rejects.toThrow(/callbacks\.onStep/);
    expect(pools.length).toBe(count);
  });

  it('closes the pool and frees its tensors when a callback throws', async () => {
    const before = tf.memory().numTensors;
    await expect(
      runMujocoEpisodes(
        { env: 'cartpole-swingup', planner: 'cem', episodes: 1, seed: 0, steps: 3, ...tiny },
        {
          onStep: (info) => {
            if (info.step === 1) throw new Error('disk full');
          },
        },
      ),
    ).rejects.toThrow('disk full');
    expect(tf.memory().numTensors).toBe(before);
    const pool = pools.at(-1) as RolloutPool;
    await expect(pool.rollout([], new Float32Array(0), { horizon: 1 })).rejects.toThrow(/closed/);
  });
});

describe('runMujocoStudy', () => {
  it("sizes CEM at PlaNet's budget and iCEM at a tenth of its rollouts", () => {
    expect(mujocoStudySizes('cem')).toEqual({ horizon: 12, samples: 1000, elites: 100, iterations: 10 });
    const icem = mujocoStudySizes('icem');
    const { config } = mujocoPlannerConfig('icem', icem);
    expect(Math.abs(config.rolloutsPerStep - 1000)).toBeLessThanOrEqual(10);
    const cem = mujocoPlannerConfig('cem', mujocoStudySizes('cem')).config;
    expect(cem.rolloutsPerStep).toBe(10000);
    expect(cem.warmStart).toBe(false);
    expect(() => mujocoStudySizes('cem', 1.5)).toThrow(RangeError);
  });

  it('is resumable: checkpointed episodes are skipped, the rest reproduce the same returns', async () => {
    const settings = {
      tasks: ['cartpole-swingup'],
      planners: ['icem'],
      episodes: 2,
      seed: 1,
      controlSteps: 16,
      budget: 0.01,
      workers: 1,
    } as const;
    const saved: MujocoEpisodeRecord[] = [];
    const full = await runMujocoStudy(settings, {
      onEpisode: (r) => saved.push(JSON.parse(JSON.stringify(r))),
    });
    expect(saved).toHaveLength(2);
    expect(full.rows).toHaveLength(1);
    const row = full.rows[0] as MujocoStudyRow;
    expect(row.steps).toBe(2);
    expect(row.episodes).toBe(2);
    expect(row.reduced).toBe(true);
    expect(row.planet).toBe(850);
    expect(row.meanReturn).toBeCloseTo(saved.reduce((a, e) => a + e.return, 0) / 2, 12);

    const fresh: MujocoEpisodeRecord[] = [];
    const resumed = await runMujocoStudy(
      { ...settings, completed: saved.slice(0, 1) },
      { onEpisode: (r) => fresh.push(r) },
    );
    expect(fresh.map((r) => r.episode)).toEqual([1]);
    expect(fresh[0]?.rewards).toEqual(saved[1]?.rewards);
    expect(resumed.rows[0]?.meanReturn).toBe(row.meanReturn);

    let ran = 0;
    await runMujocoStudy({ ...settings, completed: saved }, { onEpisode: () => ran++ });
    expect(ran).toBe(0);
    const table = formatMujocoTable(full);
    expect(table).toContain('| cartpole-swingup | icem (reduced) |');
    expect(table).toContain('| 850 |');
  });

  it('is a list of episode jobs with stable ids, each of which checks its parameters', async () => {
    const settings = { tasks: ['cartpole-swingup', 'reacher-easy'], episodes: 2, seed: 0 } as const;
    const jobs = mujocoStudyJobs(settings, 'cpu');
    expect(jobs.map((j) => MUJOCO_EPISODE_JOB.describe(j.params))).toEqual([
      'cartpole-swingup cem #0',
      'cartpole-swingup cem #1',
      'cartpole-swingup icem #0',
      'cartpole-swingup icem #1',
      'reacher-easy cem #0',
      'reacher-easy cem #1',
      'reacher-easy icem #0',
      'reacher-easy icem #1',
    ]);
    expect(jobs[0]?.params).toEqual({
      task: 'cartpole-swingup',
      planner: 'cem',
      episode: 0,
      seed: 0,
      steps: 125,
      horizon: 12,
      samples: 1000,
      elites: 100,
      iterations: 10,
    });
    expect(new Set(jobs.map((j) => jobId(j))).size).toBe(8);
    expect(mujocoStudyJobs(settings, 'cpu').map((j) => jobId(j))).toEqual(jobs.map((j) => jobId(j)));
    const p = jobs[0]?.params;
    expect(() => MUJOCO_EPISODE_JOB.check({ ...p, task: 'hopper-hop' })).toThrow(
      /params\.task must be one of/,
    );
    expect(() => MUJOCO_EPISODE_JOB.check({ ...p, samples: 1.5 })).toThrow(TypeError);
    expect(() => MUJOCO_EPISODE_JOB.check({ ...p, workers: 2 })).toThrow(/workers/);
  });

  it('rejects bad settings with typed errors', async () => {
    await expect(runMujocoStudy({ episodes: 1, seed: 0, tasks: ['humanoid-run' as never] })).rejects.toThrow(
      /settings\.tasks\[0\]/,
    );
    await expect(runMujocoStudy({ episodes: 1, seed: 0, planners: ['mppi' as never] })).rejects.toThrow(
      RangeError,
    );
    await expect(runMujocoStudy({ episodes: 1, seed: 0, controlSteps: 2000 })).rejects.toThrow(
      /controlSteps/,
    );
    await expect(runMujocoStudy({ episodes: 1, seed: 0, budget: 0 })).rejects.toThrow(/budget/);
    await expect(runMujocoStudy({ episodes: 1, seed: 0, steps: 3 } as never)).rejects.toThrow(TypeError);
  });
});

describe('the @dcem/tasks/mujoco entry point', () => {
  it('and @dcem/tasks/planet are the only parts of @dcem/tasks that import @dcem/mujoco (the main entry never loads MuJoCo)', () => {
    const src = join(dirname(fileURLToPath(import.meta.url)), '..');
    const offenders = (readdirSync(src, { recursive: true }) as string[])
      .filter((f) => f.endsWith('.ts') && !f.startsWith('mujoco') && !f.startsWith('planet'))
      .filter((f) =>
        /from '(@dcem\/mujoco|\.{1,2}\/(\.\.\/)*mujoco\/)/.test(readFileSync(join(src, f), 'utf8')),
      );
    expect(offenders).toEqual([]);
    expect(readFileSync(join(src, 'index.ts'), 'utf8')).not.toMatch(/mujoco/);
  });
});

describe('@dcem/mujoco missing', () => {
  it('gives an error that names the package and the install command', async () => {
    // Node's own error for the missing package, from a folder where it cannot be found.
    const probe = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import('@dcem/mujoco').catch((e) => console.log(JSON.stringify({ code: e.code, message: e.message })));",
      ],
      { cwd: mkdtempSync(join(tmpdir(), 'dcem-no-mujoco-')), encoding: 'utf8' },
    );
    const missing = JSON.parse(probe.stdout) as { code: string; message: string };
    expect(missing.code).toBe('ERR_MODULE_NOT_FOUND');
    const nodeError = Object.assign(new Error(missing.message), { code: missing.code });
    const failure = importMujoco(() => Promise.reject(nodeError));
    await expect(failure).rejects.toThrow(
      /@dcem\/tasks\/mujoco and @dcem\/tasks\/planet need @dcem\/mujoco, an optional peer dependency of @dcem\/tasks that is not installed; install it with `npm install @dcem\/mujoco`/,
    );
    await expect(failure).rejects.toHaveProperty('cause', nodeError);
    // Any other failure (here a module missing inside @dcem/mujoco) is thrown as it is.
    const inner = Object.assign(new Error("Cannot find package '@mujoco/mujoco' imported from x.js"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    await expect(importMujoco(() => Promise.reject(inner))).rejects.toBe(inner);
    // Installed, it is the package itself.
    expect((await importMujoco()).TASK_NAMES).toContain('cheetah-run');
  });
});
