// Proof that a user can install the packages one by one: pack every
// publishable package, lint the tarballs (publint, Are the Types Wrong?),
// install them with npm into an empty folder outside the workspace and run a
// small program that imports @dcem/tfjs and solves a problem.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './repo.test-utils.js';

interface Manifest {
  name: string;
  private?: boolean;
}

const PACKAGES = readdirSync(join(ROOT, 'packages'))
  .map((dir) => ({
    dir: join(ROOT, 'packages', dir),
    manifest: JSON.parse(readFileSync(join(ROOT, 'packages', dir, 'package.json'), 'utf8')) as Manifest,
  }))
  .filter((p) => p.manifest.private !== true);

const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name);
const run = (command: string, args: string[], cwd: string) =>
  execFileSync(command, args, { cwd, encoding: 'utf8', stdio: 'pipe', timeout: 300_000 });

let tarballs: Record<string, string> = {};
let app: string;

beforeAll(() => {
  const dest = mkdtempSync(join(tmpdir(), 'dcem-pack-'));
  tarballs = {};
  for (const p of PACKAGES) {
    const before = new Set(readdirSync(dest));
    run('pnpm', ['pack', '--pack-destination', dest], p.dir);
    const made = readdirSync(dest).filter((f) => !before.has(f) && f.endsWith('.tgz'));
    expect(made).toHaveLength(1);
    tarballs[p.manifest.name] = join(dest, made[0] as string);
  }
  app = mkdtempSync(join(tmpdir(), 'dcem-user-'));
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'dcem-user', private: true, type: 'module' }),
  );
  run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      ...Object.values(tarballs),
      '@tensorflow/tfjs@4.22.0',
    ],
    app,
  );
}, 600_000);

describe('packages as users get them', () => {
  it('packs every publishable package', () => {
    expect(Object.keys(tarballs).sort()).toEqual([
      '@dcem/core',
      '@dcem/errors',
      '@dcem/jax',
      '@dcem/lml',
      '@dcem/mujoco',
      '@dcem/tasks',
      '@dcem/tfjs',
    ]);
  });

  for (const p of PACKAGES) {
    it(`${p.manifest.name}: publint finds no errors or warnings`, () => {
      const out = run(bin('publint'), ['--strict', p.dir], ROOT);
      expect(out).not.toMatch(/Errors:|Warnings:/);
    });

    it(`${p.manifest.name}: types resolve for ESM consumers (attw, esm-only profile)`, () => {
      // attw exits non-zero (and run throws) when it finds a problem outside the
      // profile; CommonJS `require` of these ESM-only packages is out of scope.
      const out = run(
        bin('attw'),
        [tarballs[p.manifest.name] as string, '--profile', 'esm-only', '--format', 'ascii'],
        ROOT,
      );
      expect(out).toMatch(/node16 \(from ESM\): 🟢 \(ESM\)/);
      expect(out).toMatch(/bundler: 🟢/);
      expect(out).not.toMatch(/❌/);
    });

    it(`${p.manifest.name}: the tarball holds its README, compiled code and types, no tests or sources`, () => {
      const files = run('tar', ['-tzf', tarballs[p.manifest.name] as string], ROOT).split('\n');
      expect(files).toContain('package/README.md');
      expect(files).toContain('package/dist/index.js');
      expect(files).toContain('package/dist/index.d.ts');
      expect(files.filter((f) => /\.test\.|test-utils|\/src\//.test(f))).toEqual([]);
    });
  }

  it('a program outside the workspace imports @dcem/tfjs and solves a problem', () => {
    writeFileSync(
      join(app, 'main.js'),
      [
        "import * as tf from '@tensorflow/tfjs';",
        "import { dcem, lml } from '@dcem/tfjs';",
        'tf.enableProdMode();',
        "await tf.setBackend('cpu');",
        'const target = tf.tensor1d([1, -2]);',
        'const r = dcem((x) => tf.sum(tf.square(tf.sub(x, target)), -1), { dim: 2, numSamples: 100, numElites: 10, numIterations: 30, seed: 0 });',
        'const y = lml(tf.tensor2d([[3, 1, 2, 0]]), 2);',
        'console.log(JSON.stringify({ solution: Array.from(r.solution.dataSync()), rowSum: y.sum().dataSync()[0] }));',
      ].join('\n'),
    );
    const result = JSON.parse(run(process.execPath, ['main.js'], app).trim().split('\n').at(-1) as string);
    expect(result.solution[0]).toBeCloseTo(1, 2);
    expect(result.solution[1]).toBeCloseTo(-2, 2);
    expect(result.rowSum).toBeCloseTo(2, 4);
  });

  it('a program outside the workspace solves with @dcem/jax over jax-js', () => {
    writeFileSync(
      join(app, 'jax.js'),
      [
        "import { dcem } from '@dcem/core';",
        "import { createJaxBackend } from '@dcem/jax';",
        'const b = createJaxBackend();',
        'const target = b.tensor([1, -2], [1, 1, 2]);',
        'const f = (x) => b.sum(b.square(b.sub(x, target)), -1, false);',
        'const r = dcem(b, f, { dim: 2, numSamples: 100, numElites: 10, numIterations: 30, seed: 0 });',
        'console.log(JSON.stringify({ solution: Array.from(b.readSync(r.solution)) }));',
      ].join('\n'),
    );
    const result = JSON.parse(run(process.execPath, ['jax.js'], app).trim().split('\n').at(-1) as string);
    expect(result.solution[0]).toBeCloseTo(1, 2);
    expect(result.solution[1]).toBeCloseTo(-2, 2);
  });

  // @dcem/mujoco is an optional peer dependency of @dcem/tasks, which npm does
  // not install by itself: it is here because beforeAll installs every tarball
  // by name, as a user of @dcem/tasks/mujoco installs @dcem/mujoco.
  it('a program outside the workspace steps a MuJoCo task and runs rollouts on a worker (@dcem/mujoco, @dcem/tasks/mujoco)', () => {
    writeFileSync(
      join(app, 'mujoco.js'),
      [
        "import { createRolloutPool, makeEnv } from '@dcem/mujoco';",
        "import { MUJOCO_PLANNERS } from '@dcem/tasks/mujoco';",
        "if (!MUJOCO_PLANNERS.includes('icem')) throw new Error('@dcem/tasks/mujoco did not load');",
        "const env = await makeEnv('cheetah-run', { seed: 0, actionRepeat: 4 });",
        'const step = env.step([0.1, 0.2, 0.3, -0.1, -0.2, -0.3]);',
        "const pool = await createRolloutPool('cheetah-run', { workers: 1, actionRepeat: 4 });",
        'const returns = await pool.rollout([env.getState()], new Float32Array(2 * 3 * 6).fill(0.5), { horizon: 3 });',
        'await pool.close();',
        'env.dispose();',
        'console.log(JSON.stringify({ reward: step.reward, returns: Array.from(returns) }));',
      ].join('\n'),
    );
    const result = JSON.parse(run(process.execPath, ['mujoco.js'], app).trim().split('\n').at(-1) as string);
    expect(Number.isFinite(result.reward)).toBe(true);
    expect(result.returns).toHaveLength(2);
    expect(result.returns[0]).toBe(result.returns[1]);
  });

  it('installed nothing from the workspace by path: every @dcem package came from its tarball', () => {
    const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { resolved?: string }>;
    };
    for (const name of Object.keys(tarballs)) {
      expect(lock.packages[`node_modules/${name}`]?.resolved ?? '').toMatch(/^file:.*\.tgz$/);
    }
  });
});
