/**
 * The rollout loop shared by the workers and the main thread (internal).
 *
 * @module
 */
import type { EnvState } from './env.js';
import type { Simulation } from './simulation.js';

/** What {@link rolloutSequences} needs to know about a slice of a call. */
export interface RolloutSlice {
  readonly states: readonly EnvState[];
  /** Sequences per start state (sequence q starts from states[⌊q / perState⌋]). */
  readonly perState: number;
  readonly first: number;
  readonly count: number;
  readonly horizon: number;
  readonly actionRepeat: number;
  /** This slice's actions, [count × horizon × actionDim]. */
  readonly actions: Float32Array | Float64Array;
}

/**
 * Runs each sequence of the slice from its start state and returns the sums
 * of rewards: R = Σ_h (Σ_r r_{h,r}) over the horizon h and the action repeat
 * r (summed in this order, as `MujocoEnv.step` and a loop over its rewards
 * sum them, so that the two agree bit for bit). A sequence whose simulation
 * diverges stops there and returns NaN.
 */
export function rolloutSequences(
  sim: Simulation,
  slice: RolloutSlice,
): { returns: Float64Array; divergences: number } {
  const { states, perState, first, count, horizon, actionRepeat, actions } = slice;
  const m = sim.nu;
  const returns = new Float64Array(count);
  let divergences = 0;
  for (let s = 0; s < count; s++) {
    const state = states[Math.floor((first + s) / perState)] as EnvState;
    sim.writeParams(state.params);
    sim.writePhysics(state.physics);
    let total = 0;
    for (let h = 0; h < horizon; h++) {
      const offset = (s * horizon + h) * m;
      let reward = 0;
      for (let r = 0; r < actionRepeat; r++) reward += sim.controlStep(actions, offset);
      total += reward;
      if (Number.isNaN(total)) break;
    }
    if (Number.isNaN(total)) divergences++;
    returns[s] = total;
  }
  return { returns, divergences };
}
