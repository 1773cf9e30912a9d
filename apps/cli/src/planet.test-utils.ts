// The tiny latent world-model run that the `dcem planet-ppo` and
// `dcem planet-compare` tests start from: two episodes of cartpole-swingup
// (one of random actions), a world model of 6/3/6 and a decoder of one layer
// of 8, so each test makes its base folder in a second or two.
import type { PlanetSettings } from '@dcem/tasks/planet';

/** A latent run's settings at tiny sizes; `steps` per episode is the caller's. */
export function tinyLatentPlanet(steps: number): PlanetSettings {
  return {
    env: 'cartpole-swingup',
    episodes: 2,
    seedEpisodes: 1,
    steps,
    updatesPerEpisode: 1,
    batchSize: 2,
    sequenceLength: 4,
    horizon: 3,
    planner: 'latent',
    samples: 6,
    elites: 2,
    iterations: 2,
    model: { deterministic: 6, stochastic: 3, hidden: 6 },
    latent: { dim: 2, hiddenSizes: [8], batchSize: 2 },
  };
}
