// The main entry of @dcem/tasks never loads MuJoCo nor the world model:
// @dcem/mujoco is an optional peer dependency that only `@dcem/tasks/mujoco`
// and `@dcem/tasks/planet` need. Checked on
// the built code users get (dist/, built before the tests), by following
// every static and dynamic import from each entry point.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');

/** `import … from 'x'`, `export … from 'x'`, `import 'x'` and `import('x')`. */
const SPECIFIERS = /(?:\bfrom\s*|\bimport\s*\(?\s*)(['"])([^'"]+)\1/g;

/** The packages (bare specifiers) and files of dist/ reachable from `entry` through the files of dist/. */
function walk(entry: string): { packages: Set<string>; files: Set<string> } {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');
    for (const [, , specifier] of code.matchAll(SPECIFIERS)) {
      if (specifier === undefined) continue;
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier));
      else packages.add(specifier);
    }
  };
  visit(join(DIST, entry));
  return { packages, files: seen };
}

/** The packages (bare specifiers) reachable from `entry` through the files of dist/. */
function packagesReachedFrom(entry: string): Set<string> {
  return walk(entry).packages;
}

/** The files of dist/ reachable from `entry`. */
function filesReachedFrom(entry: string): Set<string> {
  return walk(entry).files;
}

describe('the entry points as built', () => {
  it('the main entry and ./objectives reach no MuJoCo package; ./mujoco does', () => {
    expect(existsSync(join(DIST, 'index.js')), 'build @dcem/tasks first (pnpm build)').toBe(true);
    const mujoco = (p: string) => p.startsWith('@dcem/mujoco') || p.startsWith('@mujoco/');
    const main = packagesReachedFrom('index.js');
    expect(main.has('@dcem/tfjs')).toBe(true); // the walk does follow the graph
    expect([...main].filter(mujoco)).toEqual([]);
    expect([...packagesReachedFrom('objectives/index.js')].filter(mujoco)).toEqual([]);
    expect([...packagesReachedFrom('mujoco/index.js')].filter(mujoco)).toEqual(['@dcem/mujoco']);
    // The job specifications and records of the studies are plain functions: the queue (BullMQ, Redis) is the CLI's.
    const queue = (p: string) => p === 'bullmq' || p === 'ioredis';
    expect([...main, ...packagesReachedFrom('mujoco/index.js')].filter(queue)).toEqual([]);
  });

  it('the main entry, ./objectives and ./mujoco load no file of ./planet; ./planet reaches @dcem/mujoco', () => {
    expect(existsSync(join(DIST, 'planet', 'index.js')), 'build @dcem/tasks first (pnpm build)').toBe(true);
    const planetFiles = (entry: string) =>
      [...filesReachedFrom(entry)].filter((f) => f.startsWith(`${join(DIST, 'planet')}/`));
    expect(planetFiles('index.js')).toEqual([]);
    expect(planetFiles('objectives/index.js')).toEqual([]);
    expect(planetFiles('mujoco/index.js')).toEqual([]);
    expect(planetFiles('planet/index.js').length).toBeGreaterThan(5); // the walk does follow the graph
    const reached = packagesReachedFrom('planet/index.js');
    expect(reached.has('@dcem/mujoco')).toBe(true);
    expect(reached.has('@dcem/tfjs')).toBe(true);
  });
});
