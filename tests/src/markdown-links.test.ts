// The links of the Markdown files people read on GitHub and npm resolve:
// README, CONTRIBUTING, SECURITY, the issue and pull-request templates, the
// guides, every package's README, bench/ and golden/. Relative links must
// name an existing file or folder (and an existing heading, for #anchors
// into Markdown); links into this project's own GitHub repository, hosted
// docs and npm pages must match the `repository` field of package.json.
// (The docs site's own links are checked in docs-site.test.ts.)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { documentationFiles, ROOT } from './repo.test-utils.js';

interface Manifest {
  name: string;
  private?: boolean;
  repository?: { type: string; url: string; directory?: string };
  homepage?: string;
  bugs?: { url: string };
}

/** Every Markdown file whose links are checked. */
function markdownFiles(): string[] {
  const files = new Set(documentationFiles());
  for (const name of ['CONTRIBUTING.md', 'SECURITY.md', 'bench/README.md', 'golden/README.md']) {
    files.add(join(ROOT, name));
  }
  files.add(join(ROOT, '.github', 'pull_request_template.md'));
  const templates = join(ROOT, '.github', 'ISSUE_TEMPLATE');
  for (const name of readdirSync(templates)) {
    if (name.endsWith('.md')) files.add(join(templates, name));
  }
  return [...files];
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Anchors of a Markdown file's headings (duplicates get -1, -2, … as on GitHub). */
function anchors(path: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of withoutCode(readFileSync(path, 'utf8')).split('\n')) {
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (h === null) continue;
    const base = slug(h[1] as string);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** The text with fenced code blocks, inline code and HTML comments blanked out. */
function withoutCode(text: string): string {
  return text
    .replace(/^```[\s\S]*?^```/gm, (block) => block.replace(/[^\n]/g, ' '))
    .replace(/<!--[\s\S]*?-->/g, (c) => c.replace(/[^\n]/g, ' '))
    .replace(/`[^`\n]*`/g, (code) => ' '.repeat(code.length));
}

/** Link targets of a Markdown file: inline links and images, reference definitions, autolinks. */
function links(path: string): { target: string; line: number }[] {
  const text = withoutCode(readFileSync(path, 'utf8'));
  const found: { target: string; line: number }[] = [];
  const lineOf = (index: number) => text.slice(0, index).split('\n').length;
  for (const m of text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    found.push({ target: m[1] as string, line: lineOf(m.index ?? 0) });
  }
  for (const m of text.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)) {
    found.push({ target: m[1] as string, line: lineOf(m.index ?? 0) });
  }
  for (const m of text.matchAll(/<(https?:\/\/[^>\s]+)>/g)) {
    found.push({ target: m[1] as string, line: lineOf(m.index ?? 0) });
  }
  return found;
}

const manifest = (path: string): Manifest => JSON.parse(readFileSync(path, 'utf8'));
const ROOT_MANIFEST = manifest(join(ROOT, 'package.json'));
const WORKSPACE = ['packages', 'apps']
  .flatMap((group) => readdirSync(join(ROOT, group)).map((name) => join(group, name)))
  .concat(['tests'])
  .filter((dir) => existsSync(join(ROOT, dir, 'package.json')));
const PUBLIC = WORKSPACE.map((dir) => manifest(join(ROOT, dir, 'package.json'))).filter((m) => !m.private);

/** owner/name of the GitHub repository in the root package.json. */
const REPO = (() => {
  const m = /github\.com\/([^/]+)\/([^/.]+)(\.git)?$/.exec(ROOT_MANIFEST.repository?.url ?? '');
  if (m === null)
    throw new Error(`package.json: repository.url is not a GitHub URL: ${ROOT_MANIFEST.repository?.url}`);
  return { owner: m[1] as string, name: m[2] as string };
})();
const DOCS_URL = `https://${REPO.owner}.github.io/${REPO.name}/`;
const REPO_URL = `https://github.com/${REPO.owner}/${REPO.name}`;

/** Problems with one absolute URL that points at this project. */
function projectUrlProblem(url: string): string | undefined {
  const gh = /^https:\/\/github\.com\/([^/#?]+)\/([^/#?]+)/.exec(url);
  if (gh !== null && gh[1]?.toLowerCase() === REPO.owner.toLowerCase() && gh[2] !== REPO.name) {
    return `names repository ${gh[1]}/${gh[2]}, not ${REPO.owner}/${REPO.name}`;
  }
  const pages = /^https:\/\/([^./]+)\.github\.io\/([^/#?]*)/.exec(url);
  if (pages !== null && (pages[1] !== REPO.owner || pages[2] !== REPO.name)) {
    return `hosted docs are at ${DOCS_URL}`;
  }
  const npm = /^https:\/\/www\.npmjs\.com\/package\/(@[^/]+\/[^/#?]+|[^@/#?][^/#?]*)/.exec(url);
  if (npm?.[1]?.startsWith('@dcem/') && !PUBLIC.some((m) => m.name === npm[1])) {
    return `${npm[1]} is not a published package`;
  }
  return undefined;
}

describe('links of the Markdown files', () => {
  const files = markdownFiles();

  it('covers README, CONTRIBUTING, SECURITY and the templates', () => {
    const names = files.map((f) => relative(ROOT, f));
    for (const name of [
      'README.md',
      'CONTRIBUTING.md',
      'SECURITY.md',
      '.github/pull_request_template.md',
      '.github/ISSUE_TEMPLATE/bug_report.md',
      '.github/ISSUE_TEMPLATE/feature_request.md',
    ]) {
      expect(names).toContain(name);
    }
  });

  for (const file of files) {
    it(`resolve: ${relative(ROOT, file)}`, () => {
      const broken: string[] = [];
      for (const { target, line } of links(file)) {
        const where = `${relative(ROOT, file)}:${line} → ${target}`;
        if (/^mailto:/.test(target)) continue;
        if (/^https?:\/\//.test(target)) {
          const problem = projectUrlProblem(target);
          if (problem !== undefined) broken.push(`${where} (${problem})`);
          continue;
        }
        const [path = '', fragment] = target.split('#');
        const dest = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
        if (!existsSync(dest)) {
          broken.push(`${where} (no such file)`);
          continue;
        }
        if (!dest.startsWith(ROOT)) {
          broken.push(`${where} (outside the repository)`);
          continue;
        }
        if (fragment !== undefined && dest.endsWith('.md') && statSync(dest).isFile()) {
          if (!anchors(dest).has(fragment)) broken.push(`${where} (no heading #${fragment})`);
        }
      }
      expect(broken).toEqual([]);
    });
  }

  it('the checker itself finds broken links (a made-up target, a missing heading, a wrong repository)', () => {
    expect(existsSync(resolve(ROOT, 'NO-SUCH-FILE.md'))).toBe(false);
    expect(anchors(join(ROOT, 'CONTRIBUTING.md')).has('the-changeset-rule')).toBe(true);
    expect(anchors(join(ROOT, 'CONTRIBUTING.md')).has('no-such-heading')).toBe(false);
    expect(projectUrlProblem(`https://github.com/${REPO.owner}/other`)).toBeDefined();
    expect(projectUrlProblem('https://someone.github.io/dcem/')).toBeDefined();
    expect(projectUrlProblem('https://www.npmjs.com/package/@dcem/cli')).toBeDefined();
    expect(projectUrlProblem(`${REPO_URL}/issues`)).toBeUndefined();
    // Links are found in prose, not in code.
    const contributing = links(join(ROOT, 'CONTRIBUTING.md')).map((l) => l.target);
    expect(contributing).toContain('SECURITY.md');
    expect(contributing).toContain('docs/writing-a-backend.md');
    expect(contributing).not.toContain('https://www.npmjs.com/package/@dcem/lml');
    expect(files.reduce((n, f) => n + links(f).length, 0)).toBeGreaterThan(40);
  });
});

describe('the repository field, the hosted docs and the npm pages', () => {
  it('every package.json names the same repository, with its own folder', () => {
    for (const dir of WORKSPACE) {
      const m = manifest(join(ROOT, dir, 'package.json'));
      expect(m.repository?.url, dir).toBe(ROOT_MANIFEST.repository?.url);
      expect(m.repository?.directory, dir).toBe(dir);
    }
  });

  it('the public packages point npm at the hosted docs and the issue tracker', () => {
    expect(PUBLIC.length).toBe(7);
    for (const m of PUBLIC) {
      expect(m.homepage, m.name).toBe(DOCS_URL);
      expect(m.bugs?.url, m.name).toBe(`${REPO_URL}/issues`);
    }
  });

  it('the README links the hosted docs and the npm page of every public package', () => {
    const targets = links(join(ROOT, 'README.md')).map((l) => l.target);
    expect(targets).toContain(DOCS_URL);
    for (const m of PUBLIC) expect(targets, m.name).toContain(`https://www.npmjs.com/package/${m.name}`);
  });

  it('the issue template chooser links the hosted docs and private vulnerability reporting', () => {
    const config = readFileSync(join(ROOT, '.github', 'ISSUE_TEMPLATE', 'config.yml'), 'utf8');
    const urls = [...config.matchAll(/url:\s*(\S+)/g)].map((m) => m[1] as string);
    expect(urls).toContain(DOCS_URL);
    expect(urls).toContain(`${REPO_URL}/security/advisories/new`);
    for (const url of urls) expect(projectUrlProblem(url), url).toBeUndefined();
  });
});
