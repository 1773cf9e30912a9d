import type { CemOptions } from './options.js';
import type { SelectorName } from './selector-names.js';

/**
 * A preset: solver settings taken from a paper or a reference implementation,
 * as a plain frozen object of {@link CemOptions} fields (the same types,
 * read-only; `selector` only by name). It never sets what depends on the
 * problem (`dim`, `batchSize`, bounds, `initMean`, `initStd`, `seed`,
 * `noiseShape`), nor tensors or functions, so it can be spread into the
 * options of `createCem`, `cem`, `dcem` or a planner's `solver` and
 * overridden field by field.
 */
export type CemPreset = Readonly<
  // The fields every preset sets:
  Required<Pick<CemOptions<never>, 'numSamples' | 'numElites' | 'numIterations' | 'temperature'>> &
    // the plain numbers and flags it may set, which do not depend on the problem:
    Pick<
      CemOptions<never>,
      | 'normalize'
      | 'tolerance'
      | 'minStd'
      | 'maxStd'
      | 'momentum'
      | 'populationDecay'
      | 'minSamples'
      | 'keepElites'
      | 'reuseEliteValues'
      | 'addMeanToLast'
      | 'noiseExponent'
    > & {
      /** The selector, by name ({@link CemOptions.selector}). */
      selector?: SelectorName;
    }
>;

/**
 * Vanilla CEM with the DCEM paper's control settings (Amos & Yarats, "The
 * Differentiable Cross-Entropy Method", ICML 2020, the cart-pole experiment;
 * reference code `locuslab/dcem`, `exps/cartpole_emb.py`): N = 100 samples,
 * k = 10 elites, 10 iterations, hard top-k (`temperature: null`), values
 * standardised per row, early exit at ‖μ' − μ‖ < 1e-4.
 */
const cem = Object.freeze({
  numSamples: 100,
  numElites: 10,
  numIterations: 10,
  temperature: null,
}) satisfies CemPreset;

/**
 * DCEM with the same settings as {@link presets}.cem and the LML soft top-k
 * at τ = 1 (the paper's `temp = 1`; Amos & Yarats, ICML 2020,
 * `exps/cartpole_emb.py`).
 */
const dcem = Object.freeze({
  numSamples: 100,
  numElites: 10,
  numIterations: 10,
  temperature: 1,
  selector: 'lml',
}) satisfies CemPreset;

/**
 * iCEM (Pinneri et al., "Sample-efficient Cross-Entropy Method for Real-time
 * Planning", CoRL 2020; code `martius-lab/iCEM`, `icem/controllers/icem.py`
 * and `icem/settings/defaults/i-cem-blitz.json`): k = 10 elites, 3
 * iterations, population decay γ = 1.25 with a floor of 2k (the default
 * `minSamples`), momentum
 * α = 0.1 on μ and σ, 30 % of the elites kept with their values reused (the
 * paper's code; mbrl-lib's `ICEMOptimizer` re-evaluates a random 30 % and uses
 * the variance for the momentum), the mean added to the last iteration (the
 * paper's code puts it in place of a sample; here it is one more), coloured
 * noise β = 2 (the paper uses 2–4 by task; the blitz file has 3) and all
 * iterations run (no early exit). N = 100 is a middle budget of the
 * paper's sweeps. iCEM's σ₀ is half the action range times 0.5: the planner
 * sets σ₀, and `noiseShape` from the horizon, not the preset.
 */
const icem = Object.freeze({
  numSamples: 100,
  numElites: 10,
  numIterations: 3,
  temperature: null,
  selector: 'hard',
  tolerance: 0,
  momentum: 0.1,
  populationDecay: 1.25,
  keepElites: 0.3,
  reuseEliteValues: true,
  addMeanToLast: true,
  noiseExponent: 2,
}) satisfies CemPreset;

/**
 * MPPI as mbrl-lib runs it (`facebookresearch/mbrl-lib`,
 * `mbrl/planning/trajectory_opt.py` `MPPIOptimizer`, settings of
 * `mbrl/examples/conf/overrides/pets_mppi_halfcheetah.yaml`): 350 samples,
 * 5 iterations, weights e^{γ(r − max r)} over every sample with γ = 0.9, i.e.
 * `selector: 'softmax'` with τ = 1/0.9 on raw costs (`normalize: false`), and
 * a fixed σ = 1 (`minStd` = `maxStd` = 1). mbrl-lib's smoothing of the noise
 * along time (β = 0.9) is not reproduced (use `noiseExponent` for correlated
 * noise), nor its variance shrinking near the bounds. `numElites` (35) only
 * scales the weights and sizes `result.elites`: the mean is the softmax-weighted
 * mean of all samples whatever it is.
 */
const mppi = Object.freeze({
  numSamples: 350,
  numElites: 35,
  numIterations: 5,
  temperature: 1 / 0.9,
  selector: 'softmax',
  normalize: false,
  tolerance: 0,
  minStd: 1,
  maxStd: 1,
}) satisfies CemPreset;

/**
 * TD-MPC2's planner (Hansen, Su & Wang, "TD-MPC2: Scalable, Robust World
 * Models for Continuous Control", ICLR 2024; code `nicklashansen/tdmpc2`,
 * `tdmpc2/config.yaml` and `TDMPC2._plan` in `tdmpc2/tdmpc2.py`): 6
 * iterations (the code adds 2 when the action dimension is ≥ 20), 512
 * samples, 64 elites weighted by a softmax of their values with TD-MPC2's
 * `temperature` 0.5 multiplying the values (τ = 2 here, on raw values), σ
 * clamped to [0.05, 2], all iterations run. TD-MPC2 starts σ at `max_std`
 * (2; the planner sets σ₀) and has no momentum (TD-MPC, its predecessor, had
 * 0.1 on the mean); its 24 policy trajectories need a learned policy and are
 * not part of the solver.
 */
const tdmpc2 = Object.freeze({
  numSamples: 512,
  numElites: 64,
  numIterations: 6,
  temperature: 2,
  selector: 'elite-softmax',
  normalize: false,
  tolerance: 0,
  minStd: 0.05,
  maxStd: 2,
}) satisfies CemPreset;

/**
 * Solver presets from the literature: plain frozen option objects to spread
 * and override, each documented with the source of its numbers.
 *
 * - `cem`: vanilla CEM, the DCEM paper's control settings;
 * - `icem`: iCEM (Pinneri et al. 2020);
 * - `mppi`: MPPI as in mbrl-lib;
 * - `tdmpc2`: TD-MPC2's planner (Hansen et al. 2024);
 * - `dcem`: DCEM (LML, τ = 1), the settings of `cem`.
 *
 * @example
 * ```ts
 * import { cem, presets } from '@dcem/core';
 * const result = cem(backend, f, { ...presets.icem, dim: 30, numSamples: 200 });
 * ```
 */
export const presets = Object.freeze({ cem, icem, mppi, tdmpc2, dcem });

/** The names of the {@link presets}. */
export type PresetName = keyof typeof presets;

/**
 * The names of the {@link presets}, in one frozen list (`cem`, `icem`,
 * `mppi`, `tdmpc2`, `dcem`): the one list of planner names that other
 * packages filter or extend.
 */
export const PRESET_NAMES: readonly PresetName[] = Object.freeze(Object.keys(presets) as PresetName[]);
