/**
 * Learning-rate halving on a plateau (internal), with the semantics of
 * PyTorch's `ReduceLROnPlateau(mode='min', threshold_mode='rel', cooldown=0)`
 * that the reference uses.
 *
 * @module
 */

/** Settings of {@link PlateauScheduler}. */
export interface PlateauSettings {
  /** Multiplier of the learning rate on a plateau, in (0, 1). */
  factor: number;
  /** Evaluations without improvement that are tolerated; the next one reduces. */
  patience: number;
  /** Relative improvement that counts: metric < best·(1 − threshold). */
  threshold: number;
  /** The learning rate never goes below this. */
  minLearningRate: number;
}

/** What the learning-rate plateau scheduler of the regression trainer remembers between evaluations (serialisable). */
export interface PlateauState {
  /** The current learning rate. */
  learningRate: number;
  /** The best metric so far (null before the first evaluation). */
  best: number | null;
  /** Consecutive evaluations without improvement. */
  badEvaluations: number;
  /** How many times the learning rate was reduced. */
  reductions: number;
}

/**
 * A plateau detector: `step(metric)` after each evaluation; when the metric
 * has not improved (relatively, by `threshold`) for more than `patience`
 * consecutive evaluations, the learning rate is multiplied by `factor` and
 * the count restarts. Changes smaller than 1e-8 are skipped, as in PyTorch.
 */
export class PlateauScheduler {
  /** The scheduler's settings. */
  readonly settings: PlateauSettings;
  private current: PlateauState;

  /** Starts at `learningRate`, or resumes from a saved `state`. */
  constructor(settings: PlateauSettings, learningRate: number, state?: PlateauState) {
    this.settings = { ...settings };
    this.current =
      state === undefined ? { learningRate, best: null, badEvaluations: 0, reductions: 0 } : { ...state };
  }

  /** A copy of the state, for checkpoints. */
  get state(): PlateauState {
    return { ...this.current };
  }

  /** The current learning rate. */
  get learningRate(): number {
    return this.current.learningRate;
  }

  /** Records one evaluation; returns true when it reduced the learning rate. */
  step(metric: number): boolean {
    const s = this.current;
    if (s.best === null || metric < s.best * (1 - this.settings.threshold)) {
      s.best = metric;
      s.badEvaluations = 0;
    } else {
      s.badEvaluations += 1;
    }
    if (s.badEvaluations > this.settings.patience) {
      s.badEvaluations = 0;
      const next = Math.max(s.learningRate * this.settings.factor, this.settings.minLearningRate);
      if (s.learningRate - next > 1e-8) {
        s.learningRate = next;
        s.reductions += 1;
        return true;
      }
    }
    return false;
  }
}
