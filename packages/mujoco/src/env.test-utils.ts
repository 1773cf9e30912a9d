// Helpers shared by the package's tests.
import type { EnvState, MujocoEnv } from './env.js';
import { simulationOf } from './env.js';

/** A copy of `state` with qpos and qvel replaced (entries not given stay as they are; `time` kept). */
export function withPosVel(env: MujocoEnv, state: EnvState, qpos: number[], qvel: number[]): EnvState {
  const sim = simulationOf(env);
  const nq = sim.model.nq;
  const nv = sim.model.nv;
  const physics = Float64Array.from(state.physics);
  // mjSTATE_INTEGRATION starts with time, qpos, qvel.
  for (let i = 0; i < nq; i++) physics[1 + i] = qpos[i] ?? 0;
  for (let i = 0; i < nv; i++) physics[1 + nq + i] = qvel[i] ?? 0;
  return { ...state, physics };
}

/** Capsule mass at density 1000 kg/m³: ρ(πr²L + 4/3 πr³) for a cylinder of length L with two hemispherical caps. */
export const capsule = (r: number, length: number) =>
  1000 * (Math.PI * r * r * length + (4 / 3) * Math.PI * r ** 3);
/** Sphere mass at density 1000 kg/m³. */
export const sphere = (r: number) => 1000 * (4 / 3) * Math.PI * r ** 3;
/** Cylinder mass at density 1000 kg/m³. */
export const cylinder = (r: number, length: number) => 1000 * Math.PI * r * r * length;
