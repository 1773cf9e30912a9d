// Test helpers for the tests that run the built package (dist/, built before
// the tests run) in a child Node.js process, e.g. to see that it exits.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package folder (this file is src/threads/child-process.test-utils.ts). */
const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A built module of the package, `dist/<path>`, as an import specifier for a child script. */
export function distModule(...path: string[]): string {
  return join(PACKAGE_DIR, 'dist', ...path).replace(/\\/g, '/');
}

/**
 * Runs an ES module script (`--input-type=module`, which the pool's workers
 * inherit) in a child Node.js process in the package folder and returns what
 * it printed; throws where it fails or takes more than 60 s.
 */
export function runModuleScript(script: string): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: PACKAGE_DIR,
    encoding: 'utf8',
    timeout: 60_000,
  });
}
