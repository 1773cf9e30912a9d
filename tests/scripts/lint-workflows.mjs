#!/usr/bin/env node
// Lints GitHub Actions workflows, offline:
//   node tests/scripts/lint-workflows.mjs [FOLDER]   (default: .github/workflows)
//
// Every *.yml / *.yaml file of FOLDER must
// - pass action-validator (@action-validator/cli: GitHub's workflow schema,
//   run from npm as WebAssembly, no download);
// - pin every action of another repository to a full 40-hex commit SHA,
//   with the release it is (`# vX.Y.Z`) in a comment on the same line;
// - declare `permissions` at the top level (least privilege: jobs that need
//   more ask for it themselves);
// - not use `pull_request_target` (it runs with write access on forks' code).
// Prints every problem and exits 1 when there is one, 0 otherwise.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const folder = resolve(process.argv[2] ?? join(here, '..', '..', '.github', 'workflows'));

/** Path of action-validator's command-line entry (resolved from this test package). */
function validatorCli() {
  const require = createRequire(join(here, '..', 'package.json'));
  return join(dirname(require.resolve('@action-validator/cli/package.json')), 'cli.mjs');
}

/** Problems of one workflow file's text that the schema does not catch. */
export function policyProblems(text) {
  const problems = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const use = /^\s*(?:-\s+)?uses:\s*(['"]?)([^\s'"#]+)\1\s*(#.*)?$/.exec(line);
    if (use === null) return;
    const target = use[2];
    if (target.startsWith('./') || target.startsWith('docker://')) return;
    const at = target.lastIndexOf('@');
    const ref = at < 0 ? '' : target.slice(at + 1);
    if (!/^[0-9a-f]{40}$/.test(ref)) {
      problems.push(`line ${i + 1}: ${target} is not pinned to a full commit SHA`);
    } else if (!/^#\s*v\d+(\.\d+){0,2}\b/.test(use[3] ?? '')) {
      problems.push(`line ${i + 1}: ${target} needs its release in a comment (# vX.Y.Z)`);
    }
  });
  if (!lines.some((line) => /^permissions:/.test(line))) {
    problems.push(
      'no top-level `permissions` (set the least the workflow needs, e.g. `contents: read` or `{}`)',
    );
  }
  if (lines.some((line) => /\bpull_request_target\b/.test(line.replace(/#.*$/, '')))) {
    problems.push('`pull_request_target` runs with write access on code from forks');
  }
  return problems;
}

function main() {
  if (!existsSync(folder)) {
    console.error(`lint-workflows: no folder ${folder}`);
    return 1;
  }
  const files = readdirSync(folder).filter((f) => /\.ya?ml$/.test(f));
  if (files.length === 0) {
    console.error(`lint-workflows: no workflow in ${folder}`);
    return 1;
  }
  const cli = validatorCli();
  let failed = 0;
  for (const file of files) {
    const path = join(folder, file);
    const problems = [];
    const r = spawnSync(process.execPath, [cli, path], { encoding: 'utf8' });
    if (r.status !== 0)
      problems.push(`action-validator: ${(r.stderr || r.stdout || String(r.error)).trim()}`);
    problems.push(...policyProblems(readFileSync(path, 'utf8')));
    if (problems.length > 0) {
      failed += 1;
      console.error(`${file}:\n  ${problems.join('\n  ')}`);
    } else {
      console.log(`${file}: ok`);
    }
  }
  return failed === 0 ? 0 : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exit(main());
