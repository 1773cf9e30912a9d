import type { RunContext } from './context.js';
import { type LearnResult, type OptimizeResult, runLearn, runOptimize } from './two-d.js';

/** Settings of {@link runDemo}. */
export interface DemoSettings {
  seed: number;
  /** Gradient steps of the learning part. */
  steps: number;
  /** Where the minimum of the learned objective should move. */
  target: [number, number];
  /** Animation frame every this many steps (0: none). */
  frameEvery: number;
}

/** What the demo found. */
export interface DemoResult {
  cem: OptimizeResult;
  dcem: OptimizeResult;
  learn: LearnResult;
}

/**
 * The README's demo: minimise the three-bumps objective with CEM and with
 * DCEM (drawing the iterates), then learn θ through DCEM so that the
 * minimiser moves to `target` (loss curve and animation).
 */
export async function runDemo(ctx: RunContext, s: DemoSettings): Promise<DemoResult> {
  ctx.log('1. Minimise the three-bumps objective f(x, y) (100 samples, 10 elites, 10 iterations)');
  const common = {
    objective: 'bumps',
    samples: 100,
    elites: 10,
    iterations: 10,
    temperature: 1,
    initStd: 1.5,
    seed: s.seed,
  } as const;
  const cem = await runOptimize(ctx, { ...common, method: 'cem', prefix: 'cem' });
  const dcem = await runOptimize(ctx, { ...common, method: 'dcem', prefix: 'dcem' });
  ctx.log(`2. Learn θ through DCEM`);
  const learn = await runLearn(ctx, {
    target: s.target,
    steps: s.steps,
    seed: s.seed,
    frameEvery: s.frameEvery,
    prefix: 'learn',
  });
  return { cem, dcem, learn };
}
