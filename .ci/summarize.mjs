// Sums the vitest JSON reports of every package and the named checks given
// as arguments ("name=pass" / "name=fail"); prints "N passed, N failed" last.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

let passed = 0;
let failed = 0;
/** Every workspace folder with a vitest config: packages/*, apps/* and tests/. */
const projects = [];
for (const group of ['packages', 'apps']) {
  if (!existsSync(group)) continue;
  for (const name of readdirSync(group)) projects.push(join(group, name));
}
projects.push('tests');

for (const dir of projects) {
  if (!existsSync(join(dir, 'vitest.config.ts'))) continue;
  const file = join(dir, 'reports', 'vitest.json');
  if (!existsSync(file)) {
    console.log(`${dir}: no test report (its tests did not run)`);
    failed += 1;
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  const p = report.numPassedTests ?? 0;
  // Pending/todo tests are not passes: count them as failures so nothing
  // skipped can look green.
  const f = (report.numFailedTests ?? 0) + (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  console.log(`${dir}: ${p} passed, ${f} failed`);
  passed += p;
  failed += f;
  if (report.numFailedTestSuites > 0 && (report.numFailedTests ?? 0) === 0) {
    console.log(`${dir}: ${report.numFailedTestSuites} test file(s) failed to load`);
    failed += report.numFailedTestSuites;
  }
}
for (const arg of process.argv.slice(2)) {
  const i = arg.lastIndexOf('=');
  const name = arg.slice(0, i);
  const ok = arg.slice(i + 1) === 'pass';
  console.log(`check ${name}: ${ok ? 'passed' : 'FAILED'}`);
  if (ok) passed += 1;
  else failed += 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
