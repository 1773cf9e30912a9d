import { cem, dcem } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import { BUMPS_THETA, bumps } from './bumps.js';

/** Settings of {@link runDemo}. */
export interface DemoOptions {
  /** Seed of every random draw. */
  seed: number;
  /** Gradient steps of the learning part. */
  steps: number;
  /** Where the minimum of the learned objective should move. */
  target: [number, number];
  /** Prints a line (the CLI passes console.log, tests collect lines). */
  log: (line: string) => void;
}

/** What the demo found. */
export interface DemoResult {
  cem: { solution: number[]; value: number };
  dcem: { solution: number[]; value: number };
  losses: number[];
  theta: number[];
  learnedSolution: number[];
}

const SOLVER = { dim: 2, numSamples: 100, numElites: 10, numIterations: 10, initStd: 1.5 } as const;

function fmt(values: ArrayLike<number>): string {
  return `(${Array.from(values, (v) => v.toFixed(3)).join(', ')})`;
}

/**
 * The README's demo: minimise the three-bumps objective with CEM and DCEM,
 * then learn θ by differentiating through DCEM so that the minimiser moves
 * to `target`.
 */
export function runDemo(options: DemoOptions): DemoResult {
  const { log, seed } = options;
  const theta0 = tf.tensor1d(BUMPS_THETA);
  const f = bumps(theta0);

  const solve = (name: string, run: typeof cem) => {
    const r = run(f, { ...SOLVER, seed });
    const solution = Array.from(r.solution.dataSync());
    const value = tf.tidy(() => f(tf.reshape(r.solution, [1, 1, 2])).dataSync()[0] as number);
    log(`${name}: x̂ = ${fmt(solution)}, f(x̂) = ${value.toFixed(4)} after ${r.iterations} iterations`);
    tf.dispose([r.solution, r.mean, r.std]);
    return { solution, value };
  };
  log('1. Minimise the three-bumps objective f(x, y) (100 samples, 10 elites, 10 iterations)');
  const cemResult = solve('   CEM  (hard top-k)', cem);
  const dcemResult = solve('   DCEM (soft top-k, τ = 1)', dcem);
  theta0.dispose();

  log(`2. Learn θ so that the DCEM minimiser moves to ${fmt(options.target)}: loss = ‖x̂(θ) − target‖²`);
  const theta = tf.tidy(() => tf.variable(tf.tensor1d(BUMPS_THETA)));
  const target = tf.tensor2d([options.target]);
  const optimizer = tf.train.adam(0.05);
  const losses: number[] = [];
  for (let step = 0; step < options.steps; step++) {
    const loss = optimizer.minimize(
      () => {
        const r = dcem(bumps(theta as tf.Tensor1D), { ...SOLVER, seed: seed + step + 1 });
        return tf.sum(tf.square(tf.sub(r.solution, target))) as tf.Scalar;
      },
      true,
      [theta],
    );
    const value = (loss as tf.Scalar).dataSync()[0] as number;
    loss?.dispose();
    losses.push(value);
    if (step % 5 === 0 || step === options.steps - 1) {
      log(`   step ${String(step + 1).padStart(3)}  loss ${value.toExponential(3)}`);
    }
  }
  const learned = dcem(bumps(theta as tf.Tensor1D), { ...SOLVER, seed });
  const learnedSolution = Array.from(learned.solution.dataSync());
  const thetaValues = Array.from(theta.dataSync());
  log(`   learned θ = ${fmt(thetaValues)}`);
  log(`   DCEM minimiser of the learned objective: ${fmt(learnedSolution)} (target ${fmt(options.target)})`);
  tf.dispose([learned.solution, learned.mean, learned.std, theta, target]);
  optimizer.dispose();
  return { cem: cemResult, dcem: dcemResult, losses, theta: thetaValues, learnedSolution };
}
