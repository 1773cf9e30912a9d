// Test helpers: read the golden data of the repository's golden/ folder
// (numbers computed by the reference implementation; see golden/README.md).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root (pnpm-workspace.yaml)');
    dir = up;
  }
  return dir;
}

/** Absolute path of the golden folder: golden/ at the repository root. */
export const GOLDEN_DIR = resolve(repoRoot(), 'golden');

/** Reads and parses a golden file. */
export function loadGolden<C>(file: 'lml.json' | 'dcem.json'): { meta: unknown; cases: C[] } {
  const path = join(GOLDEN_DIR, file);
  if (!existsSync(path)) {
    throw new Error(`golden data missing: ${path} (golden/ at the repository root holds them)`);
  }
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** Float32 machine epsilon. */
export const EPS32 = 2 ** -23;

/** Largest absolute entry of nested arrays. */
export function maxAbs(values: unknown): number {
  if (typeof values === 'number') return Math.abs(values);
  if (Array.isArray(values)) return values.reduce((m: number, v) => Math.max(m, maxAbs(v)), 0);
  return 0;
}

/** Largest |a − b| over two flat arrays of the same length. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/** Flattens nested number arrays, row-major. */
export function flat(values: unknown): number[] {
  return (values as unknown[]).flat(Number.POSITIVE_INFINITY as 1) as number[];
}
