#!/usr/bin/env node
// Checks the images of the built documentation site (`pnpm run docs` runs it
// after typedoc):
//
//   node scripts/check-site-images.mjs [SITE]      (default: site)
//
// 1. every <img src>, <img srcset> and <source srcset> of every HTML page under
//    SITE names a file that exists there and is not empty (links to other
//    hosts and data: URLs are not followed);
// 2. every image that the README and the guides of typedoc.json show is on
//    the site, byte for byte, in an <img> of some page (typedoc copies the
//    images that Markdown references relatively into SITE/media/).
// Exits 1 and lists what is wrong, 0 with a one-line summary otherwise.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { imageReferences } from './doc-images.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function htmlFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return htmlFiles(path);
    return name.endsWith('.html') ? [path] : [];
  });
}

const sha = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** The URLs of the images of an HTML page: <img src>, and the candidates of every srcset. */
export function htmlImageUrls(html) {
  const urls = [];
  for (const tag of html.matchAll(/<(?:img|source)\b[^>]*>/gi)) {
    for (const attr of tag[0].matchAll(/\s(src|srcset)\s*=\s*(?:"([^"]*)"|'([^']*)')/gi)) {
      const value = attr[2] ?? attr[3] ?? '';
      if (attr[1]?.toLowerCase() === 'src') urls.push(value);
      else urls.push(...value.split(',').map((c) => c.trim().split(/\s+/)[0] ?? ''));
    }
  }
  return urls.filter((u) => u !== '');
}

function check(site) {
  const problems = [];
  const shown = new Set();
  let images = 0;
  const pages = htmlFiles(site);
  for (const page of pages) {
    for (const url of htmlImageUrls(readFileSync(page, 'utf8'))) {
      if (/^(https?:|data:|\/\/)/i.test(url)) continue;
      images++;
      const where = `${relative(site, page)}: <img> ${url}`;
      const path = resolve(dirname(page), decodeURIComponent(url.split(/[?#]/)[0] ?? ''));
      if (!existsSync(path) || !statSync(path).isFile()) problems.push(`${where} (no such file)`);
      else if (statSync(path).size === 0) problems.push(`${where} (empty file)`);
      else shown.add(sha(path));
    }
  }
  const typedoc = JSON.parse(readFileSync(join(ROOT, 'typedoc.json'), 'utf8'));
  const documents = [typedoc.readme ?? 'README.md', ...(typedoc.projectDocuments ?? [])];
  let expected = 0;
  for (const doc of documents) {
    for (const ref of imageReferences(join(ROOT, doc))) {
      if (ref.path === undefined || !existsSync(ref.path)) continue; // the repository's own test reports these
      expected++;
      if (!shown.has(sha(ref.path))) {
        problems.push(`${doc}:${ref.line}: ${ref.target} is on no page of the site`);
      }
    }
  }
  return { problems, pages: pages.length, images, expected };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const site = resolve(process.argv[2] ?? join(ROOT, 'site'));
  if (!existsSync(site)) {
    console.error(`${site}: no such folder (build the site with \`pnpm run docs\`)`);
    process.exit(1);
  }
  const { problems, pages, images, expected } = check(site);
  if (problems.length > 0) {
    console.error(`Broken images in ${site}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    process.exit(1);
  }
  console.log(
    `${relative(process.cwd(), site) || '.'}: ${images} local images on ${pages} pages, all present; ` +
      `the ${expected} images of the README and the guides are all shown`,
  );
}
