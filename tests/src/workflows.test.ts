// The GitHub Actions workflows pass the offline workflow linter
// (tests/scripts/lint-workflows.mjs: action-validator's schema, actions
// pinned to commit SHAs, top-level permissions), a broken copy of one fails
// it, and the workflows do what the repository promises: CI runs .ci/run on
// Node 20 and 22, the docs workflow builds the site `pnpm run docs` builds,
// the release workflow publishes public packages with provenance.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './repo.test-utils.js';

const WORKFLOWS = join(ROOT, '.github', 'workflows');
const LINTER = join(ROOT, 'tests', 'scripts', 'lint-workflows.mjs');

const lint = (folder: string) => spawnSync(process.execPath, [LINTER, folder], { encoding: 'utf8' });
const workflow = (name: string) => readFileSync(join(WORKFLOWS, name), 'utf8');

/** A scratch folder holding ci.yml with `edit` applied to its text. */
function brokenCopy(edit: (text: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'dcem-workflows-'));
  copyFileSync(join(WORKFLOWS, 'ci.yml'), join(dir, 'ci.yml'));
  const text = readFileSync(join(dir, 'ci.yml'), 'utf8');
  const broken = edit(text);
  expect(broken).not.toBe(text); // the edit really changed the copy
  writeFileSync(join(dir, 'ci.yml'), broken);
  return dir;
}

describe('workflow linter', () => {
  it('passes every workflow of .github/workflows', () => {
    const r = lint(WORKFLOWS);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('ci.yml: ok');
    expect(r.stdout).toContain('docs.yml: ok');
    expect(r.stdout).toContain('release.yml: ok');
  });

  it('an unchanged copy in a scratch folder passes (the copy itself is sound)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dcem-workflows-'));
    copyFileSync(join(WORKFLOWS, 'ci.yml'), join(dir, 'ci.yml'));
    expect(lint(dir).status).toBe(0);
  });

  it('fails a copy with a misspelt key (schema)', () => {
    const r = lint(brokenCopy((t) => t.replace('runs-on: ubuntu-latest', 'runs_on: ubuntu-latest')));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('action-validator');
    expect(r.stderr).toContain('runs_on');
  });

  it('fails a copy that is not valid YAML', () => {
    const r = lint(brokenCopy((t) => t.replace('jobs:\n', 'jobs:\n  ci: [\n')));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('action-validator');
  });

  it('fails a copy with an action on a tag instead of a commit SHA', () => {
    const r = lint(brokenCopy((t) => t.replace(/actions\/checkout@[0-9a-f]{40}/, 'actions/checkout@v7')));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('actions/checkout@v7 is not pinned to a full commit SHA');
  });

  it('fails a copy without top-level permissions', () => {
    const r = lint(brokenCopy((t) => t.replace(/^permissions:\n {2}contents: read\n/m, '')));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('no top-level `permissions`');
  });
});

describe('what the workflows do', () => {
  it('CI runs .ci/run on pushes and pull requests, ubuntu-latest, Node 20 and 22', () => {
    const ci = workflow('ci.yml');
    expect(ci).toMatch(/^on:\n {2}push:\n {2}pull_request:\n/m);
    expect(ci).toContain('runs-on: ubuntu-latest');
    expect(ci).toMatch(/node: \[20, 22\]/);
    expect(ci).toMatch(/node-version: \$\{\{ matrix\.node \}\}/);
    expect(ci).toMatch(/run: \.ci\/run\n/);
    expect(ci).toMatch(/^permissions:\n {2}contents: read\n/m);
  });

  it('the docs workflow builds the site of `pnpm run docs` and deploys it from main', () => {
    const docs = workflow('docs.yml');
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    const typedoc = JSON.parse(readFileSync(join(ROOT, 'typedoc.json'), 'utf8'));
    expect(pkg.scripts.docs).toContain('typedoc');
    expect(docs).toContain('run: pnpm run docs');
    // The uploaded folder is typedoc's output folder, the one a local `pnpm run docs` writes.
    expect(docs).toMatch(
      new RegExp(`upload-pages-artifact@[0-9a-f]{40} # v[\\d.]+\\n\\s+with:\\n\\s+path: ${typedoc.out}\\n`),
    );
    expect(docs).toMatch(/branches: \[main\]/);
    expect(docs).toMatch(/deploy-pages@[0-9a-f]{40}/);
    expect(docs).toMatch(/^permissions: \{\}$/m);
    expect(docs).toMatch(/pages: write/);
  });

  it('the release workflow runs changesets and publishes public packages with provenance', () => {
    const release = workflow('release.yml');
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(release).toMatch(/changesets\/action@[0-9a-f]{40}/);
    expect(release).toContain('publish: pnpm run release');
    expect(release).toContain('NPM_CONFIG_PROVENANCE: "true"');
    expect(release).toMatch(/id-token: write/);
    expect(release).toMatch(/^permissions: \{\}$/m);
    expect(pkg.scripts.release).toMatch(/^pnpm publish -r --access public /);
  });
});
