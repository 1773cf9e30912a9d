#!/usr/bin/env node
// The API reports: one Markdown file per public entry point of every published
// package (packages/<name>/api/<name>[-<subpath>].api.md), made by Microsoft's
// API Extractor from the built declaration files (run `pnpm build` first).
// A report lists every exported name with its signature, so a change to a
// package's public surface shows as a diff of its report in review.
//
//   node scripts/api-report.mjs            write every report (`pnpm api`)
//   node scripts/api-report.mjs --check    fail with the diff when a committed
//                                          report differs from the build (`pnpm api:check`)
//   --root DIR   the repository to report on (default: this one)
//   --out DIR    write the reports under DIR/<package folder>/ instead
//
// Entry points come from each package.json's `exports` (every subpath with a
// `types` condition); private packages are skipped.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CompilerState, Extractor, ExtractorConfig } from '@microsoft/api-extractor';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPORT_SUFFIX = '.api.md';

function parseArgs(argv) {
  const args = { check: false, root: resolve(HERE, '..'), out: undefined };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--check') args.check = true;
    else if (arg === '--root') args.root = resolve(argv[++i] ?? '');
    else if (arg === '--out') args.out = resolve(argv[++i] ?? '');
    else {
      console.error(
        `api-report: unknown argument ${JSON.stringify(arg)} (expected --check, --root DIR, --out DIR)`,
      );
      process.exit(2);
    }
  }
  return args;
}

/** Every published package's entry points: { dir, name, entries: [{ subpath, types, reportName }] }. */
function findPackages(root) {
  const packages = [];
  const group = join(root, 'packages');
  for (const folder of readdirSync(group).sort()) {
    const manifestPath = join(group, folder, 'package.json');
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    if (manifest.private === true) continue;
    const unscoped = manifest.name.replace(/^@[^/]+\//, '');
    const exportsField =
      typeof manifest.exports === 'object' && manifest.exports !== null
        ? manifest.exports
        : { '.': { types: manifest.types ?? manifest.typings } };
    const entries = [];
    for (const [subpath, target] of Object.entries(exportsField)) {
      const types = typeof target === 'object' && target !== null ? target.types : undefined;
      if (typeof types !== 'string') continue;
      const suffix = subpath === '.' ? '' : `-${subpath.replace(/^\.\//, '').replaceAll('/', '-')}`;
      entries.push({ subpath, types: join(group, folder, types), reportName: `${unscoped}${suffix}` });
    }
    if (entries.length > 0) packages.push({ dir: join(group, folder), name: manifest.name, entries });
  }
  return packages;
}

/** API Extractor's settings for one entry point; reports go to `tempDir`, this script places them. */
function extractorConfig(pkg, entry, tempDir) {
  return ExtractorConfig.prepare({
    configObject: {
      projectFolder: pkg.dir,
      mainEntryPointFilePath: entry.types,
      compiler: {
        // The built declarations are analysed, not the sources: the base
        // options are enough, and a package's own tsconfig (composite,
        // rootDir src) would only get in the way.
        overrideTsconfig: {
          compilerOptions: {
            target: 'ES2022',
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            lib: ['ES2022'],
            types: [],
            strict: true,
            skipLibCheck: true,
          },
          files: [entry.types],
        },
      },
      apiReport: {
        enabled: true,
        reportFileName: entry.reportName,
        reportFolder: tempDir,
        reportTempFolder: tempDir,
      },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      newlineKind: 'lf',
      messages: {
        compilerMessageReporting: { default: { logLevel: 'error' } },
        extractorMessageReporting: {
          // Release tags (@public, @beta) are not used in this repository:
          // every export is public.
          'ae-missing-release-tag': { logLevel: 'none' },
          // Doc comments are checked by typedoc (pnpm run docs).
          'ae-undocumented': { logLevel: 'none' },
          // So are the doc comments' {@link} targets.
          'ae-unresolved-link': { logLevel: 'none' },
          // Anything else API Extractor notices (a type used by an export but
          // not exported, …) is written into the report for the reviewer.
          default: { logLevel: 'none', addToApiReportFile: true },
        },
        tsdocMessageReporting: { default: { logLevel: 'none' } },
      },
    },
    configObjectFullPath: join(pkg.dir, 'api-extractor.json'),
    packageJsonFullPath: join(pkg.dir, 'package.json'),
  });
}

/** A unified diff of the committed report and the built one (diffutils' or git's). */
function diffFiles(committed, generated, label) {
  const tools = [
    ['diff', ['-u', '--label', `${label} (committed)`, '--label', `${label} (built)`, committed, generated]],
    ['git', ['diff', '--no-index', '--no-color', '--', committed, generated]],
  ];
  for (const [command, args] of tools) {
    const result = spawnSync(command, args, { encoding: 'utf8' });
    if (!result.error) return result.stdout;
  }
  return `(neither diff nor git is available to compare ${committed} with ${generated})\n`;
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const packages = findPackages(args.root);
  const tempDir = mkdtempSync(join(tmpdir(), 'dcem-api-'));
  const problems = [];
  let written = 0;
  try {
    for (const pkg of packages) {
      const missing = pkg.entries.filter((e) => !existsSync(e.types));
      if (missing.length > 0) {
        problems.push(
          `${pkg.name}: ${missing.map((e) => relative(args.root, e.types)).join(', ')} not found; run \`pnpm build\` first`,
        );
        continue;
      }
      const reportDir = args.out
        ? join(args.out, relative(join(args.root, 'packages'), pkg.dir))
        : join(pkg.dir, 'api');
      if (!args.check) mkdirSync(reportDir, { recursive: true });
      // One TypeScript program for all of a package's entry points.
      const firstConfig = extractorConfig(pkg, pkg.entries[0], tempDir);
      const compilerState = CompilerState.create(firstConfig, {
        additionalEntryPoints: pkg.entries.map((e) => e.types),
      });
      const expectedFiles = new Set();
      for (const entry of pkg.entries) {
        const config = extractorConfig(pkg, entry, tempDir);
        const messages = [];
        const result = Extractor.invoke(config, {
          localBuild: true,
          compilerState,
          messageCallback: (message) => {
            if (message.logLevel === 'error' || message.logLevel === 'warning') {
              messages.push(message.formatMessageWithLocation(args.root));
            }
            message.handled = true;
          },
        });
        const label = entry.subpath === '.' ? pkg.name : `${pkg.name}/${entry.subpath.replace(/^\.\//, '')}`;
        if (result.errorCount > 0) {
          problems.push(`${label}: API Extractor failed:\n  ${messages.join('\n  ')}`);
          continue;
        }
        const fileName = `${entry.reportName}${REPORT_SUFFIX}`;
        expectedFiles.add(fileName);
        const generated = join(tempDir, fileName);
        const committed = join(reportDir, fileName);
        const text = readFileSync(generated, 'utf8');
        const shortPath = relative(args.root, committed);
        if (args.check) {
          if (!existsSync(committed)) {
            problems.push(`${label}: ${shortPath} is missing`);
          } else if (readFileSync(committed, 'utf8') !== text) {
            problems.push(
              `${label}: ${shortPath} is out of date:\n${diffFiles(committed, generated, shortPath)}`,
            );
          }
        } else {
          if (!existsSync(committed) || readFileSync(committed, 'utf8') !== text) {
            writeFileSync(committed, text);
            console.log(`api-report: wrote ${shortPath}`);
            written += 1;
          }
        }
        unlinkSync(generated);
      }
      // A report whose entry point is gone.
      for (const file of existsSync(reportDir) ? readdirSync(reportDir) : []) {
        if (!file.endsWith(REPORT_SUFFIX) || expectedFiles.has(file)) continue;
        const shortPath = relative(args.root, join(reportDir, file));
        if (args.check)
          problems.push(`${pkg.name}: ${shortPath} has no entry point in package.json's exports`);
        else {
          rmSync(join(reportDir, file));
          console.log(`api-report: removed ${shortPath} (no such entry point)`);
          written += 1;
        }
      }
    }
  } finally {
    rmSync(tempDir, { recursive: true, force: true });
  }
  const entryCount = packages.reduce((n, p) => n + p.entries.length, 0);
  if (problems.length > 0) {
    console.error(problems.join('\n\n'));
    if (args.check) {
      console.error(
        '\nThe API reports do not match the built packages: a public surface changed.' +
          '\nRun `pnpm build && pnpm api`, review the diff of packages/*/api/*.api.md and commit it' +
          ' (see CONTRIBUTING.md, "The API reports").',
      );
    }
    process.exit(1);
  }
  if (args.check) console.log(`api-report: ${entryCount} API reports are up to date`);
  else console.log(`api-report: ${entryCount} entry points, ${written} report(s) changed`);
}

main();
