import { describe, expect, it } from 'vitest';
import { PlateauScheduler } from './plateau-scheduler.js';

const SETTINGS = { factor: 0.5, patience: 2, threshold: 1e-4, minLearningRate: 0 };

describe('PlateauScheduler (PyTorch ReduceLROnPlateau, mode min, rel threshold)', () => {
  it('cuts the rate after more than `patience` evaluations without relative improvement', () => {
    const s = new PlateauScheduler(SETTINGS, 1e-3);
    // 1.0 best; 1.0, 0.99995 (not < 1·(1 − 1e-4)), 1.2 → three bad evaluations > patience 2.
    expect([1, 1, 0.99995].map((m) => s.step(m))).toEqual([false, false, false]);
    expect(s.state.badEvaluations).toBe(2);
    expect(s.step(1.2)).toBe(true);
    expect(s.learningRate).toBe(5e-4);
    expect(s.state).toEqual({ learningRate: 5e-4, best: 1, badEvaluations: 0, reductions: 1 });
    // An improvement resets the count.
    expect([0.5, 0.6, 0.6, 0.4].map((m) => s.step(m))).toEqual([false, false, false, false]);
    expect(s.state.best).toBe(0.4);
  });

  it('respects the minimum rate and ignores changes below 1e-8', () => {
    const s = new PlateauScheduler({ ...SETTINGS, patience: 0, minLearningRate: 3e-4 }, 1e-3);
    s.step(1);
    expect(s.step(2)).toBe(true);
    expect(s.learningRate).toBe(5e-4);
    expect(s.step(2)).toBe(true);
    expect(s.learningRate).toBe(3e-4);
    expect(s.step(2)).toBe(false);
    const tiny = new PlateauScheduler({ ...SETTINGS, patience: 0 }, 1e-8);
    tiny.step(1);
    expect(tiny.step(1)).toBe(false);
    expect(tiny.learningRate).toBe(1e-8);
  });

  it('resumes from a saved state and counts NaN as no improvement', () => {
    const s = new PlateauScheduler(SETTINGS, 1e-3, {
      learningRate: 2e-4,
      best: 0.1,
      badEvaluations: 2,
      reductions: 3,
    });
    expect(s.step(Number.NaN)).toBe(true);
    expect(s.state).toEqual({ learningRate: 1e-4, best: 0.1, badEvaluations: 0, reductions: 4 });
  });
});
