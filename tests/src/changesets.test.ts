// The changesets are valid and complete (`changeset status`), and
// `changeset version` turns them into versions and changelogs: a dry run in a
// scratch copy of the workspace's manifests, so the repository is untouched.
// Until the first release the packages are at 0.0.0 and the plan must take
// every public package to 0.1.0, the first public version.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './repo.test-utils.js';

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
}

const CHANGESET = join(ROOT, 'node_modules', '.bin', 'changeset');
const FIRST_PUBLIC_VERSION = '0.1.0';
const config = JSON.parse(readFileSync(join(ROOT, '.changeset', 'config.json'), 'utf8'));

/** Workspace folders holding a package.json (pnpm-workspace.yaml's globs are all `group/*`). */
function workspaceDirs(root: string): string[] {
  const yaml = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8');
  const globs = [...yaml.matchAll(/^\s*-\s*['"]?([^'"\s]+)['"]?\s*$/gm)].map((m) => m[1] as string);
  const dirs: string[] = [];
  for (const glob of globs) {
    if (!glob.endsWith('/*')) {
      if (existsSync(join(root, glob, 'package.json'))) dirs.push(glob);
      continue;
    }
    const group = glob.slice(0, -2);
    for (const name of readdirSync(join(root, group))) {
      if (existsSync(join(root, group, name, 'package.json'))) dirs.push(`${group}/${name}`);
    }
  }
  return dirs;
}

const manifest = (root: string, dir: string): Manifest =>
  JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
const PUBLIC = workspaceDirs(ROOT).filter((d) => manifest(ROOT, d).private !== true);
const unreleased = PUBLIC.every((d) => manifest(ROOT, d).version === '0.0.0');

/** Front matter of every pending changeset: package name → bump type. */
const CHANGESETS = readdirSync(join(ROOT, '.changeset'))
  .filter((f) => f.endsWith('.md') && f !== 'README.md')
  .map((file) => {
    const text = readFileSync(join(ROOT, '.changeset', file), 'utf8');
    const [, front = '', body = ''] = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text) ?? [];
    const bumps = new Map([...front.matchAll(/^"([^"]+)":\s*(\w+)\s*$/gm)].map((m) => [m[1], m[2]]));
    return { file, bumps, summary: body.trim() };
  });

/**
 * How `changeset status` runs here. With the base branch checked out
 * locally, plainly (every changeset counts; changed packages are found
 * against it). In a clone or a CI checkout on another branch, against the
 * base branch's remote-tracking branch (`--since`: the branch's changed
 * packages need a changeset of the branch). A shallow clone without either
 * has nothing to compare with: `--since=HEAD` still reads and plans every
 * changeset but cannot find changed packages.
 */
function statusArgs(): { args: string[]; compared: string | undefined } {
  const base = config.baseBranch as string;
  const exists = (ref: string) =>
    spawnSync('git', ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd: ROOT }).status === 0;
  if (exists(base)) return { args: ['status'], compared: base };
  if (exists(`origin/${base}`))
    return { args: ['status', `--since=origin/${base}`], compared: `origin/${base}` };
  return { args: ['status', '--since=HEAD'], compared: undefined };
}

describe('changeset status', () => {
  it('passes: every changeset is valid and every changed package has one', () => {
    const { args, compared } = statusArgs();
    if (compared === undefined)
      console.warn(`changeset status: no ${config.baseBranch} here, compared with HEAD`);
    const r = spawnSync(CHANGESET, args, { cwd: ROOT, encoding: 'utf8' });
    const output = `${r.stdout}${r.stderr}`;
    // changeset prints problems as "🦋  error …" lines (a package may be named @dcem/errors).
    expect(output).not.toMatch(/^🦋\s+error/im);
    expect(r.status, output).toBe(0);
  });

  it('every changeset names known public packages with a valid bump', () => {
    const names = new Set(PUBLIC.map((d) => manifest(ROOT, d).name));
    for (const c of CHANGESETS) {
      expect(c.bumps.size, c.file).toBeGreaterThan(0);
      expect(c.summary.length, c.file).toBeGreaterThan(0);
      for (const [name, bump] of c.bumps) {
        expect(names.has(name as string), `${c.file}: ${name}`).toBe(true);
        expect(['patch', 'minor', 'major'], `${c.file}: ${name}`).toContain(bump);
      }
    }
  });
});

/** The files `changeset version` would change in the repository: changesets, versions, changelogs. */
function repoState(): string[] {
  const state = readdirSync(join(ROOT, '.changeset')).sort();
  for (const dir of workspaceDirs(ROOT)) {
    const changelog = join(ROOT, dir, 'CHANGELOG.md');
    state.push(
      `${dir} ${manifest(ROOT, dir).version} ${existsSync(changelog) ? readFileSync(changelog, 'utf8').length : '-'}`,
    );
  }
  return state;
}

describe('changeset version (dry run in a scratch copy)', () => {
  let scratch: string;
  let before: string[];

  beforeAll(() => {
    before = repoState();
    scratch = mkdtempSync(join(tmpdir(), 'dcem-changeset-version-'));
    for (const file of ['package.json', 'pnpm-workspace.yaml']) cpSync(join(ROOT, file), join(scratch, file));
    cpSync(join(ROOT, '.changeset'), join(scratch, '.changeset'), { recursive: true });
    for (const dir of workspaceDirs(ROOT)) {
      mkdirSync(join(scratch, dir), { recursive: true });
      cpSync(join(ROOT, dir, 'package.json'), join(scratch, dir, 'package.json'));
      const changelog = join(ROOT, dir, 'CHANGELOG.md');
      if (existsSync(changelog)) cpSync(changelog, join(scratch, dir, 'CHANGELOG.md'));
    }
    // The changelog generator named in config.json resolves from here.
    symlinkSync(join(ROOT, 'node_modules'), join(scratch, 'node_modules'), 'dir');
    // `changeset version` asks git which commit added each changeset (for the changelog); in a
    // fresh repository there is none, so the entries carry no commit hash.
    execFileSync('git', ['init', '-q'], { cwd: scratch });
    writeFileSync(join(scratch, '.gitignore'), 'node_modules\n');
    execFileSync(CHANGESET, ['version'], { cwd: scratch, encoding: 'utf8', stdio: 'pipe' });
  }, 120_000);

  it('consumes every changeset', () => {
    const left = readdirSync(join(scratch, '.changeset')).filter(
      (f) => f.endsWith('.md') && f !== 'README.md',
    );
    expect(left).toEqual([]);
  });

  it('bumps every package a changeset names and writes its changelog entry', () => {
    const named = new Set(CHANGESETS.flatMap((c) => [...c.bumps.keys()]));
    for (const dir of workspaceDirs(ROOT)) {
      const name = manifest(ROOT, dir).name;
      const oldVersion = manifest(ROOT, dir).version;
      const newVersion = manifest(scratch, dir).version;
      if (!named.has(name)) {
        // Ignored and private packages are never versioned by changesets here.
        if (config.ignore.includes(name)) expect(newVersion, name).toBe(oldVersion);
        continue;
      }
      expect(newVersion, name).not.toBe(oldVersion);
      const changelog = readFileSync(join(scratch, dir, 'CHANGELOG.md'), 'utf8');
      expect(changelog, name).toContain(`# ${name}`);
      expect(changelog, name).toContain(`## ${newVersion}`);
      for (const c of CHANGESETS.filter((x) => x.bumps.has(name))) {
        expect(changelog, `${name}: ${c.file}`).toContain(c.summary.split('\n')[0] as string);
      }
    }
  });

  // Before the first release (every public package at 0.0.0) the changesets
  // must make 0.1.0; afterwards the repository's own changelogs record it.
  it(`the first public version is ${FIRST_PUBLIC_VERSION}`, () => {
    for (const dir of PUBLIC) {
      const root = unreleased ? scratch : ROOT;
      const changelog = readFileSync(join(root, dir, 'CHANGELOG.md'), 'utf8');
      expect(changelog, dir).toContain(`## ${FIRST_PUBLIC_VERSION}`);
      if (unreleased) {
        expect(manifest(scratch, dir).version, dir).toBe(FIRST_PUBLIC_VERSION);
        expect(changelog, dir).toContain('### Minor Changes');
      }
    }
    if (unreleased) expect(CHANGESETS.length).toBeGreaterThan(0);
  });

  it('leaves the repository untouched', () => {
    expect(repoState()).toEqual(before);
  });
});
