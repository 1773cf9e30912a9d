// The documentation site builds with zero warnings (typedoc's warnings are
// errors), every link inside it resolves, and it shows every image of the
// README and the guides (scripts/check-site-images.mjs, which `pnpm run docs`
// runs on site/ too).
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './repo.test-utils.js';

let site: string;
const CHECK_IMAGES = join(ROOT, 'scripts', 'check-site-images.mjs');

function htmlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return htmlFiles(path);
    return name.endsWith('.html') ? [path] : [];
  });
}

beforeAll(() => {
  site = mkdtempSync(join(tmpdir(), 'dcem-site-'));
  // Throws with typedoc's output when it reports an error or (treated as error) a warning.
  execFileSync(join(ROOT, 'node_modules', '.bin', 'typedoc'), ['--out', site], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: 'pipe',
  });
}, 180_000);

describe('documentation site', () => {
  it('has the API of every package and every guide', () => {
    const pages = htmlFiles(site).map((p) => p.slice(site.length + 1));
    for (const pkg of ['errors', 'lml', 'core', 'tfjs', 'tasks', 'mujoco']) {
      expect(pages.some((p) => p.startsWith(`modules/_dcem_${pkg}`) || p.includes(`_dcem_${pkg}`))).toBe(
        true,
      );
    }
    for (const guide of [
      'Getting started',
      'Concepts',
      'Choosing hyper-parameters',
      'Control with DCEM',
      'Writing a backend',
      'MuJoCo tasks: the DeepMind Control Suite in JavaScript',
      'PlaNet: a world model trained online, with planning inside it',
    ]) {
      const found = pages.some(
        (p) =>
          readFileSync(join(site, p), 'utf8').includes(`<h1>${guide}</h1>`) ||
          readFileSync(join(site, p), 'utf8').includes(`>${guide}<`),
      );
      expect(found, guide).toBe(true);
    }
  });

  it('every internal link and asset resolves', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const page of htmlFiles(site)) {
      const html = readFileSync(page, 'utf8');
      for (const match of html.matchAll(/\s(?:href|src)="([^"]+)"/g)) {
        const url = match[1] as string;
        if (/^(https?:|mailto:|data:|javascript:|#)/.test(url)) continue;
        const [path = '', fragment] = url.split('#');
        const target = resolve(dirname(page), decodeURIComponent(path.split('?')[0] as string));
        checked++;
        if (!existsSync(target)) {
          broken.push(`${page.slice(site.length + 1)} → ${url}`);
          continue;
        }
        if (fragment !== undefined && fragment !== '' && target.endsWith('.html')) {
          const text = readFileSync(target, 'utf8');
          if (!text.includes(`id="${fragment}"`) && !text.includes(`name="${fragment}"`)) {
            broken.push(`${page.slice(site.length + 1)} → ${url} (no anchor)`);
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(broken).toEqual([]);
  });

  it('shows every image of the README and the guides, and no <img> points to a missing file', () => {
    const r = spawnSync(process.execPath, [CHECK_IMAGES, site], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const m = /(\d+) local images on \d+ pages, all present; the (\d+) images of the README/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    expect(Number(m?.[2])).toBeGreaterThanOrEqual(10);
  });

  it('the image check fails a site with a broken <img>', () => {
    const broken = mkdtempSync(join(tmpdir(), 'dcem-site-broken-'));
    mkdirSync(join(broken, 'documents'));
    writeFileSync(join(broken, 'documents', 'page.html'), '<p><img src="../media/gone.png" alt="x"></p>');
    const r = spawnSync(process.execPath, [CHECK_IMAGES, broken], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('documents/page.html: <img> ../media/gone.png (no such file)');
    // …and says which images of the guides the site lacks.
    expect(r.stderr).toContain('images/cem-iterates.png is on no page of the site');
  });
});
