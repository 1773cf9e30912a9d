// Tiny PlaNet settings and helpers shared by the tests of the world model's
// runs (seconds per run on tfjs's cpu backend).
import type { PlanetEpisodeRecord } from './checkpoint.js';
import type { PlanetSettings } from './settings.js';

/** A two-episode cartpole-swingup run (one of random actions) with CEM in the model, at tiny sizes. */
export const TINY_RUN: PlanetSettings = Object.freeze({
  env: 'cartpole-swingup',
  seed: 3,
  episodes: 2,
  seedEpisodes: 1,
  steps: 8,
  updatesPerEpisode: 2,
  batchSize: 3,
  sequenceLength: 5,
  horizon: 3,
  samples: 12,
  elites: 3,
  iterations: 2,
  model: { deterministic: 8, stochastic: 3, hidden: 8 },
});

/** A three-episode cartpole-swingup run with the latent planner, at tiny sizes. */
export const TINY_LATENT_RUN: PlanetSettings = Object.freeze({
  env: 'cartpole-swingup',
  seed: 5,
  episodes: 3,
  seedEpisodes: 1,
  steps: 6,
  updatesPerEpisode: 2,
  batchSize: 2,
  sequenceLength: 4,
  horizon: 3,
  planner: 'latent',
  samples: 8,
  elites: 2,
  iterations: 2,
  model: { deterministic: 6, stochastic: 3, hidden: 6 },
  latent: { dim: 2, hiddenSizes: [8], batchSize: 2, learningRate: 1e-2 },
});

/** An episode record without its wall times (which differ between runs). */
export function timeless(r: PlanetEpisodeRecord) {
  const { environmentSeconds, planningSeconds, updateSeconds, ...rest } = r;
  return rest;
}
