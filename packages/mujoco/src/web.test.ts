// The browser entry in Node: its rollout pool on stand-in Web Workers (Node
// worker threads behind the Web Worker interface, running `serveRollouts`
// of the built entry) gives the returns of `MujocoEnv.step`, bit for bit; the
// scene readers return the model's geoms and their poses.
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MujocoEnv, makeEnv } from './env.js';
import type { RolloutPool } from './pool-core.js';
import { createWebRolloutPool, type WebWorkerLike } from './pool-web.js';
import { bodyPosition, describeGeoms, readGeomPoses } from './scene.js';

const WEB_ENTRY = new URL('../dist/web.js', import.meta.url).href;

/** A Node worker thread that looks like a Web Worker from both sides. */
function standInWebWorker(): WebWorkerLike {
  const code = `
    const { parentPort } = require('node:worker_threads');
    const scope = {
      postMessage: (message, transfer) => parentPort.postMessage(message, transfer),
      set onmessage(listener) { parentPort.on('message', (data) => listener({ data })); },
    };
    import(${JSON.stringify(WEB_ENTRY)}).then((m) => m.serveRollouts(scope));
  `;
  const worker = new Worker(code, { eval: true });
  const fake: WebWorkerLike = {
    onmessage: null,
    onerror: null,
    postMessage: (message, transfer) => worker.postMessage(message, transfer),
    terminate: () => {
      void worker.terminate();
    },
  };
  worker.on('message', (data) => fake.onmessage?.({ data }));
  worker.on('error', (error) => fake.onerror?.({ message: error.message }));
  return fake;
}

describe('@dcem/mujoco/web: the rollout pool on Web Workers', () => {
  let pool: RolloutPool;
  let env: MujocoEnv;
  beforeAll(async () => {
    [pool, env] = await Promise.all([
      createWebRolloutPool('cheetah-run', { workers: 2, actionRepeat: 4, createWorker: standInWebWorker }),
      makeEnv('cheetah-run', { seed: 3, actionRepeat: 4 }),
    ]);
  });
  afterAll(async () => {
    await pool.close();
    env.dispose();
  });

  it('returns what env.step gives, bit for bit, for 4 sequences over 2 workers', async () => {
    env.reset();
    const state = env.getState();
    const H = 4;
    const m = env.actionDim;
    const seqs = Float32Array.from({ length: 4 * H * m }, (_, i) => Math.sin(0.37 * i) * 0.9);
    const returns = await pool.rollout([state], seqs.slice(), { horizon: H, actionDim: m });
    expect(pool.workers).toBe(2);
    for (let q = 0; q < 4; q++) {
      env.setState(state);
      let total = 0;
      for (let h = 0; h < H; h++)
        total += env.step(seqs.subarray((q * H + h) * m, (q * H + h + 1) * m)).reward;
      expect(Object.is(returns[q], total)).toBe(true);
    }
    expect(new Set(Array.from(returns)).size).toBe(4);
  });

  it('checks its options', async () => {
    await expect(createWebRolloutPool('cheetah-run', {} as never)).rejects.toThrow(
      /createWebRolloutPool options must be an object with a createWorker function/,
    );
    await expect(
      createWebRolloutPool('cheetah-run', { createWorker: standInWebWorker, worker: 2 } as never),
    ).rejects.toThrow(/worker/);
    await expect(
      createWebRolloutPool('cheetah-run', { createWorker: standInWebWorker, workers: 0 }),
    ).rejects.toThrow(RangeError);
  });
});

describe('@dcem/mujoco/web: what a renderer reads', () => {
  it('cheetah-run: a plane and capsules, poses of every geom, the torso where its geom is', async () => {
    const env = await makeEnv('cheetah-run', { seed: 0 });
    try {
      const geoms = describeGeoms(env);
      expect(geoms[0]?.shape).toBe('plane');
      const torso = geoms.findIndex((g) => g.name === 'torso');
      expect(torso).toBeGreaterThan(0);
      expect(geoms[torso]?.shape).toBe('capsule');
      expect(geoms.every((g) => g.rgba.every((c) => c >= 0 && c <= 1))).toBe(true);
      env.step(new Float64Array(env.actionDim).fill(0.5));
      const { position, rotation } = readGeomPoses(env);
      expect(position).toHaveLength(3 * geoms.length);
      expect(rotation).toHaveLength(9 * geoms.length);
      // The torso geom is centred on its body: the same point.
      const [x, y, z] = bodyPosition(env, 'torso');
      expect([position[3 * torso], position[3 * torso + 1], position[3 * torso + 2]]).toEqual([x, y, z]);
      // Rotation matrices are orthonormal: each row has unit length.
      const r = rotation.subarray(9 * torso, 9 * torso + 3);
      expect(Math.hypot(r[0] as number, r[1] as number, r[2] as number)).toBeCloseTo(1, 12);
      expect(() => bodyPosition(env, 'nose')).toThrow(/no body named "nose"/);
      expect(() => readGeomPoses(env, { position: new Float64Array(1), rotation })).toThrow(RangeError);
    } finally {
      env.dispose();
    }
  });
});
