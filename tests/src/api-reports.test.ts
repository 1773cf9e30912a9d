// The committed API reports (packages/*/api/*.api.md, see CONTRIBUTING.md)
// match the built packages, so a change to a public surface shows as a diff in
// review; a stale report fails the check with its diff; and the name counts
// of scripts/api-names.mjs hold every runtime export of the entry points.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './repo.test-utils.js';

const REPORTER = join(ROOT, 'scripts', 'api-report.mjs');
const NAMES = join(ROOT, 'scripts', 'api-names.mjs');
const node = (args: string[]) => spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });

describe('API reports', () => {
  const scratch: string[] = [];
  afterAll(() => {
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  });

  it('every committed report matches the built packages (pnpm api:check)', () => {
    const r = node([REPORTER, '--check']);
    // On failure the message is the check's own output: which report, and its diff.
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/\d+ API reports are up to date/);
  }, 300_000);

  it('a stale report fails the check, shows the diff and says how to regenerate', () => {
    // A one-package repository: @dcem/errors (no dependencies) with its report edited.
    const root = mkdtempSync(join(tmpdir(), 'dcem-api-'));
    scratch.push(root);
    const pkg = join(root, 'packages', 'errors');
    for (const part of ['package.json', 'dist', 'api']) {
      cpSync(join(ROOT, 'packages', 'errors', part), join(pkg, part), { recursive: true });
    }
    const report = join(pkg, 'api', 'errors.api.md');
    const text = readFileSync(report, 'utf8');
    const stale = text.replace(/^export function describeValue\(.*\n/m, '');
    expect(stale).not.toBe(text);
    writeFileSync(report, stale);

    const r = node([REPORTER, '--check', '--root', root]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('packages/errors/api/errors.api.md is out of date');
    expect(r.stderr).toMatch(/^\+export function describeValue\(/m);
    expect(r.stderr).toContain('pnpm build && pnpm api');
    expect(readFileSync(report, 'utf8')).toBe(stale); // the check writes nothing

    // `pnpm api` puts it right.
    expect(node([REPORTER, '--root', root]).status).toBe(0);
    expect(readFileSync(report, 'utf8')).toBe(text);
    expect(node([REPORTER, '--check', '--root', root]).status).toBe(0);
  }, 120_000);

  it('the name counts include every runtime export of an entry point', async () => {
    const r = node([NAMES, '--list']);
    expect(r.status, r.stderr).toBe(0);
    const listed = new Map<string, string[]>();
    for (const block of r.stdout.split('\n\n').slice(1)) {
      const [head = '', ...names] = block.trim().split('\n');
      const [, entry = '', count = ''] = /^(\S+) \((\d+)\)$/.exec(head) ?? [];
      expect(names.length).toBe(Number(count));
      listed.set(
        entry,
        names.map((n) => n.trim()),
      );
    }
    const entries: Record<string, string> = {
      '@dcem/errors': 'packages/errors/dist/index.js',
      '@dcem/lml': 'packages/lml/dist/index.js',
      '@dcem/core': 'packages/core/dist/index.js',
      '@dcem/core/testing': 'packages/core/dist/testing/index.js',
    };
    for (const [entry, file] of Object.entries(entries)) {
      const runtime = Object.keys(await import(pathToFileURL(join(ROOT, file)).href));
      const names = listed.get(entry);
      expect(names, entry).toBeDefined();
      expect(runtime.length).toBeGreaterThan(0);
      // Types have no runtime value, so the report has at least these names.
      expect(names).toEqual(expect.arrayContaining(runtime));
      expect(r.stdout).toContain(`| \`${entry}\` | ${names?.length} |`);
    }
  }, 120_000);
});
