// bench/planet-costs.mjs (what each step of the PlaNet experiment costs) at
// tiny sizes: it measures every step, its derived rows are the sums and
// products of the measured medians, its table lists them all, and bad
// options are refused by name.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './repo.test-utils.js';

const SCRIPT = join(ROOT, 'bench', 'planet-costs.mjs');

function run(args: string[]) {
  return spawnSync(process.execPath, [SCRIPT, ...args], {
    encoding: 'utf8',
    env: { ...process.env, DCEM_THREADS: '1' },
  });
}

interface Row {
  kind: string;
  key: string;
  ms: number;
  formula?: string;
}

interface Facts {
  kind: 'facts';
  agent_steps_per_episode: number;
  updates_per_episode: number;
  ppo: { episodes_per_step: number; passes: number; minibatch_size: number };
  loadavg_before: number[];
  loadavg_after: number[];
  node: string;
}

const MEASURED = [
  'update',
  'decision_full_cem',
  'decision_icem',
  'decision_latent',
  'decoder_step',
  'ppo_sample',
  'ppo_collect_step',
  'filter',
  'env_step',
];

describe('bench/planet-costs.mjs', () => {
  it('measures every step at tiny sizes and derives the episode and run costs from the medians', () => {
    const r = run(['--tiny', '--repeats', '1', '--warmup', '0', '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    const json = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Row | Facts);
    const facts = json.find((x): x is Facts => x.kind === 'facts');
    expect(facts).toBeDefined();
    const f = facts as Facts;
    expect(f.loadavg_before).toHaveLength(3);
    expect(f.loadavg_after).toHaveLength(3);
    expect(f.node).toBe(process.version);
    const m = new Map<string, number>();
    const d = new Map<string, number>();
    for (const x of json) {
      if (x.kind === 'measured') m.set((x as Row).key, (x as Row).ms);
      if (x.kind === 'derived') d.set((x as Row).key, (x as Row).ms);
    }
    expect([...m.keys()].sort()).toEqual([...MEASURED].sort());
    for (const [key, ms] of m) expect(ms, key).toBeGreaterThan(0);
    const g = (key: string) => m.get(key) as number;
    const T = f.agent_steps_per_episode;
    const C = f.updates_per_episode;
    const { episodes_per_step: E, passes, minibatch_size: M } = f.ppo;
    const step = (decision: string) => g(decision) + g('filter') + g('env_step');
    const episodes = 2000;
    const expected: Record<string, number> = {
      phase1_episode_full_cem: T * step('decision_full_cem') + C * g('update'),
      phase1_episode_icem: T * step('decision_icem') + C * g('update'),
      phase2_episode: T * step('decision_latent') + C * (g('update') + g('decoder_step')),
      ppo_minibatch: M * g('ppo_sample'),
      ppo_update: passes * E * T * g('ppo_sample'),
      ppo_collect: T * (g('ppo_collect_step') + E * g('env_step')),
      compare_episode_full_cem: T * step('decision_full_cem'),
      compare_episode_latent: T * step('decision_latent'),
      compare_episode_icem: T * step('decision_icem'),
    };
    expected.ppo_step = (expected.ppo_collect as number) + (expected.ppo_update as number);
    expected.compare_all =
      100 *
      ((expected.compare_episode_full_cem as number) +
        2 * (expected.compare_episode_latent as number) +
        (expected.compare_episode_icem as number));
    expected.paper_phase1_full_cem =
      5 * T * g('env_step') + (episodes - 5) * (expected.phase1_episode_full_cem as number);
    expected.paper_phase1_icem =
      5 * T * g('env_step') + (episodes - 5) * (expected.phase1_episode_icem as number);
    expected.paper_phase2 = episodes * (expected.phase2_episode as number);
    expected.paper_ppo = (episodes / E) * (expected.ppo_step as number);
    expect([...d.keys()].sort()).toEqual(Object.keys(expected).sort());
    for (const [key, want] of Object.entries(expected)) {
      // The rows are rounded to 1e-3 ms; the products scale the rounding of their factors.
      expect(Math.abs((d.get(key) as number) - want), key).toBeLessThanOrEqual(1e-3 + 1e-6 * want);
    }
    // The markdown tables name every row.
    const table = lines.filter((l) => l.startsWith('| '));
    for (const key of [...MEASURED, ...Object.keys(expected)]) {
      expect(
        table.some((l) => l.startsWith(`| ${key} |`)),
        key,
      ).toBe(true);
    }
  }, 60_000);

  it('refuses bad options by name and value', () => {
    const env = run(['--env', 'cheetah']);
    expect(env.status).toBe(2);
    expect(env.stderr).toContain('--env must be one of');
    expect(env.stderr).toContain('"cheetah"');
    const repeats = run(['--repeats', '0']);
    expect(repeats.status).toBe(2);
    expect(repeats.stderr).toContain('--repeats must be an integer ≥ 1, received "0"');
    const unknown = run(['--repeat', '3']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown planet-costs option "--repeat"');
    expect(unknown.stderr).toContain('did you mean "--repeats"?');
    const backend = run(['--backend', 'gpu']);
    expect(backend.status).toBe(2);
    expect(backend.stderr).toContain('--backend must be one of');
  });
});
