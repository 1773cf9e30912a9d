// The golden data of the repository (golden/ at its root: numbers computed
// by the reference implementations, see golden/README.md), for the golden
// tests of every backend package: the case types, the loader and the
// comparison helpers.

/** A case of `golden/lml.json`: LML_k(x/τ) and its vector–Jacobian product, from the reference (float64). */
export interface GoldenLmlCase {
  /** The case's name. */
  name: string;
  /** Tags (`"ties"`, `"large"`, …). */
  kinds: string[];
  /** Columns. */
  n: number;
  /** Rows. */
  batch: number;
  /** Entries to select per row. */
  k: number;
  /** The temperature τ. */
  tau: number;
  /** The input, [batch][n]. */
  x: number[][];
  /** The upstream gradient, [batch][n]. */
  upstream: number[][];
  /** LML_k(x/τ), [batch][n]. */
  y: number[][];
  /** The vector–Jacobian product of `upstream` with respect to `x`, [batch][n]. */
  dx: number[][];
}

/** A case of `golden/dcem.json`: a whole DCEM (or CEM) solve of the reference with stored draws. */
export interface GoldenDcemCase {
  /** The case's name. */
  name: string;
  /** Tags (`"basic"`, `"vanilla"`, `"early_exit"`, `"lml_degenerate"`, …). */
  kinds: string[];
  /** The objective (its definition is in the file's `meta.objectives`). */
  objective: 'quadratic' | 'bumps';
  /** The objective's parameters by name. */
  obj_params: Record<string, number[] | number[][]>;
  /** The reference's solver settings (`temp` is 1/τ; `null`: vanilla CEM). */
  config: {
    n_batch: number;
    nx: number;
    n_sample: number;
    n_elite: number;
    n_iter: number;
    temp: number | null;
    normalize: boolean;
    lb: number | null;
    ub: number | null;
    init_mu: number[][];
    init_sigma: number[][];
    iter_eps: number;
  };
  /** The standard normal draws, [iteration][batch][sample][dim]. */
  eps: number[][][][];
  /** Iterations run. */
  n_iter_run: number;
  /** Whether the solve stopped early (‖μ' − μ‖ < iter_eps). */
  early_exit: boolean;
  /** μ after each iteration, [iteration][batch][dim]. */
  mu_per_iter: number[][][];
  /** σ after each iteration. */
  sigma_per_iter: number[][][];
  /** The solution, [batch][dim]. */
  output: number[][];
  /** The weights w of the loss sum(w ⊙ output). */
  w: number[][];
  /** ∇ of sum(w ⊙ output) with respect to each objective parameter; `null` for vanilla CEM. */
  grad: Record<string, number[] | number[][]> | null;
}

/** What a golden file holds. */
export interface GoldenFile<C> {
  /** Where the numbers come from, and the objectives' definitions. */
  meta: unknown;
  /** The cases. */
  cases: C[];
}

/**
 * Reads a golden file of the repository: `golden/<file>` in the first
 * folder, from `from` (default: the current working directory) upwards, that
 * holds `pnpm-workspace.yaml`. Node only (it reads the file system); the
 * golden data are not part of any published package.
 *
 * @param file `lml.json` or `dcem.json`.
 * @param from Where to start looking for the repository root.
 * @throws Error when there is no repository root or no such file.
 * @example
 * ```ts
 * const { cases } = await loadGolden<GoldenLmlCase>('lml.json');
 * ```
 */
export async function loadGolden<C extends GoldenLmlCase | GoldenDcemCase>(
  file: 'lml.json' | 'dcem.json',
  from?: string,
): Promise<GoldenFile<C>> {
  // Node's modules, loaded only when called (this entry point also runs in
  // browsers) and typed here (the package has no Node types).
  const nodeFs = 'node:fs';
  const nodePath = 'node:path';
  const { existsSync, readFileSync } = (await import(nodeFs)) as {
    existsSync(path: string): boolean;
    readFileSync(path: string, encoding: 'utf8'): string;
  };
  const { dirname, join, resolve } = (await import(nodePath)) as {
    dirname(path: string): string;
    join(...parts: string[]): string;
    resolve(...parts: string[]): string;
  };
  const cwd = (globalThis as { process?: { cwd(): string } }).process?.cwd() ?? '.';
  const start = resolve(from ?? cwd);
  let dir = start;
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`loadGolden: no repository root (pnpm-workspace.yaml) above ${start}`);
    dir = up;
  }
  const path = join(dir, 'golden', file);
  if (!existsSync(path)) throw new Error(`loadGolden: golden data missing: ${path}`);
  return JSON.parse(readFileSync(path, 'utf8')) as GoldenFile<C>;
}

/** Float32 machine epsilon, 2⁻²³. */
export const EPS32 = 2 ** -23;

/**
 * The largest absolute entry of a number or nested arrays of numbers.
 *
 * @param values A number or nested arrays.
 * @example
 * ```ts
 * maxAbs([[1, -3], [2]]); // 3
 * ```
 */
export function maxAbs(values: unknown): number {
  if (typeof values === 'number') return Math.abs(values);
  if (Array.isArray(values)) return values.reduce((m: number, v) => Math.max(m, maxAbs(v)), 0);
  return 0;
}

/**
 * The largest |a − b| over two flat arrays of the same length.
 *
 * @param a Entries.
 * @param b Entries, as many.
 * @throws Error when the lengths differ.
 * @example
 * ```ts
 * maxDiff([1, 2], [1, 2.5]); // 0.5
 * ```
 */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxDiff: length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/**
 * Nested arrays of numbers flattened, row-major.
 *
 * @param values Nested arrays.
 * @example
 * ```ts
 * flat([[1, 2], [3]]); // [1, 2, 3]
 * ```
 */
export function flat(values: unknown): number[] {
  return (values as unknown[]).flat(Number.POSITIVE_INFINITY as 1) as number[];
}
