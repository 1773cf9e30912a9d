import { SEED_STREAMS } from '@dcem/core';
import { describe, expect, it } from 'vitest';
import { TASK_SEED_STREAMS } from './seed-streams.js';

describe('TASK_SEED_STREAMS', () => {
  it('keeps the stream values the tasks used before they moved out of core', () => {
    // Changing a value changes every seeded result of @dcem/tasks.
    expect(TASK_SEED_STREAMS).toEqual({
      initialStates: 0,
      trainingPlan: 1,
      validation: 2,
      weights: 3,
      cartpoleStates: 4,
      pendulumAngle: 5,
      pendulumVelocity: 6,
      learningStep: 8,
      validationStates: 9,
      testStates: 10,
      testPlan: 11,
      baseline: 12,
      figures: 13,
      studyStates: 16,
      studyPlan: 17,
      mujocoInitialState: 100,
      mujocoPlanner: 101,
      planetWeights: 110,
      planetInitialState: 111,
      planetSeedActions: 112,
      planetExploration: 113,
      planetPlanner: 114,
      planetFilter: 115,
      planetBatch: 116,
      planetLatentNoise: 117,
      planetEvaluation: 118,
      planetDecoderWeights: 119,
      planetDecoderStep: 120,
      planetLatentPlan: 121,
      ppoAction: 140,
      ppoMinibatch: 141,
      ppoInitialState: 142,
      ppoPlanner: 143,
      ppoFilter: 144,
      ppoValueWeights: 145,
      planetCompare: 150,
      planetCompareBootstrap: 151,
    });
    expect(Object.isFrozen(TASK_SEED_STREAMS)).toBe(true);
  });

  it('shares no value with core’s streams or within itself', () => {
    const all = [...Object.values(TASK_SEED_STREAMS), ...Object.values(SEED_STREAMS)];
    expect(new Set(all).size).toBe(all.length);
  });
});
