#!/usr/bin/env node
// Counts the public names of every entry point from the API reports
// (packages/*/api/*.api.md, written by `pnpm api`) and prints a Markdown table.
//
//   node scripts/api-names.mjs                     the committed reports
//   node scripts/api-names.mjs DIR                 the *.api.md files under DIR
//   node scripts/api-names.mjs --before DIR [DIR2] DIR's counts beside the
//                                                  committed reports' (or DIR2's)
//   --list                                         also list the names
//
// A name is one exported binding: a function with overloads, an interface
// merged with a namespace, … count once.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REPORT_SUFFIX = '.api.md';

/** Every *.api.md file under `dir`, recursively. */
function reportFiles(dir) {
  const files = [];
  for (const name of readdirSync(dir).sort()) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...reportFiles(path));
    else if (name.endsWith(REPORT_SUFFIX)) files.push(path);
  }
  return files;
}

/** The committed reports: packages/<folder>/api/*.api.md. */
function committedReports() {
  const files = [];
  const group = join(ROOT, 'packages');
  for (const folder of readdirSync(group).sort()) {
    const dir = join(group, folder, 'api');
    if (existsSync(dir)) files.push(...reportFiles(dir));
  }
  return files;
}

/** The entry point a report describes ("@dcem/core/testing") and its exported names. */
export function readReport(path) {
  const text = readFileSync(path, 'utf8');
  const header = /^## API Report File for "([^"]+)"/m.exec(text);
  if (header === null) throw new Error(`${path}: not an API Extractor report`);
  const pkg = header[1];
  const unscoped = pkg.replace(/^@[^/]+\//, '');
  const base = path.split(/[\\/]/).pop().slice(0, -REPORT_SUFFIX.length);
  const subpath =
    base === unscoped ? '' : base.startsWith(`${unscoped}-`) ? base.slice(unscoped.length + 1) : base;
  const names = new Set();
  for (const line of text.split('\n')) {
    const declaration =
      /^export (?:declare )?(?:abstract )?(?:function|class|interface|type|const|let|var|enum|namespace) ([A-Za-z_$][\w$]*)/.exec(
        line,
      );
    if (declaration !== null) {
      names.add(declaration[1]);
      continue;
    }
    const list = /^export (?:type )?\{([^}]*)\}/.exec(line);
    if (list !== null) {
      for (const item of list[1].split(',')) {
        const name = item
          .trim()
          .replace(/^type\s+/, '')
          .split(/\s+as\s+/)
          .pop();
        if (name) names.add(name);
      }
    }
  }
  return { entry: subpath === '' ? pkg : `${pkg}/${subpath}`, names: [...names].sort() };
}

function countsOf(files) {
  const counts = new Map();
  for (const file of files) {
    const { entry, names } = readReport(file);
    counts.set(entry, names);
  }
  return counts;
}

function main() {
  const argv = process.argv.slice(2);
  const list = argv.includes('--list');
  const rest = argv.filter((a) => a !== '--list');
  let before;
  let dirs = rest;
  if (rest[0] === '--before') {
    if (rest[1] === undefined) {
      console.error('api-names: --before needs a folder of reports');
      process.exit(2);
    }
    before = countsOf(reportFiles(resolve(rest[1])));
    dirs = rest.slice(2);
  }
  const now = countsOf(dirs.length === 0 ? committedReports() : dirs.flatMap((d) => reportFiles(resolve(d))));
  const label =
    dirs.length === 0 ? 'names' : `names (${dirs.map((d) => relative(ROOT, resolve(d)) || '.').join(', ')})`;
  const entries = [...new Set([...(before?.keys() ?? []), ...now.keys()])].sort();
  const count = (map, entry) => (map.has(entry) ? map.get(entry).length : undefined);
  const lines = [];
  if (before === undefined) {
    lines.push(`| entry point | ${label} |`, '| --- | ---: |');
    for (const entry of entries) lines.push(`| \`${entry}\` | ${count(now, entry)} |`);
    lines.push(`| total | ${[...now.values()].reduce((n, v) => n + v.length, 0)} |`);
  } else {
    lines.push(`| entry point | before | ${label} | change |`, '| --- | ---: | ---: | ---: |');
    let totalBefore = 0;
    let totalNow = 0;
    for (const entry of entries) {
      const b = count(before, entry);
      const n = count(now, entry);
      totalBefore += b ?? 0;
      totalNow += n ?? 0;
      const change = (n ?? 0) - (b ?? 0);
      lines.push(`| \`${entry}\` | ${b ?? '—'} | ${n ?? '—'} | ${change > 0 ? `+${change}` : change} |`);
    }
    const change = totalNow - totalBefore;
    lines.push(`| total | ${totalBefore} | ${totalNow} | ${change > 0 ? `+${change}` : change} |`);
  }
  console.log(lines.join('\n'));
  if (list) {
    for (const entry of entries) {
      const names = now.get(entry) ?? [];
      const old = new Set(before?.get(entry) ?? []);
      console.log(`\n${entry} (${names.length})`);
      for (const name of names) console.log(`  ${before !== undefined && !old.has(name) ? '+ ' : ''}${name}`);
      if (before !== undefined) {
        const kept = new Set(names);
        for (const name of before.get(entry) ?? []) if (!kept.has(name)) console.log(`  - ${name}`);
      }
    }
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
