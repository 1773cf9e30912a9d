// The code blocks of the guides and READMEs cannot rot: every TypeScript
// block is type-checked against the built packages, and every block that is
// a complete program is run with Node.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CodeBlock, codeBlocks, documentationFiles, TESTS_DIR } from './repo.test-utils.js';

const OUT = join(TESTS_DIR, '.blocks');
const blocks = documentationFiles()
  .flatMap(codeBlocks)
  .filter((b) => b.lang === 'ts');
const slug = (b: CodeBlock) => `${b.file.replace(/[^a-zA-Z0-9]+/g, '_')}_L${b.line}`;
/** Blocks that need a test runner (vitest's describe/it) are type-checked only. */
const runnable = (b: CodeBlock) => !b.code.includes("from 'vitest'");

const COMPILER: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  types: ['node'],
  lib: ['lib.es2022.d.ts'],
};

beforeAll(() => {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  for (const b of blocks) writeFileSync(join(OUT, `${slug(b)}.ts`), `${b.code}\nexport {};\n`);
});

describe('code blocks of the docs and READMEs', () => {
  it('there are blocks to check in every guide', () => {
    for (const guide of ['getting-started', 'concepts', 'control', 'planning', 'writing-a-backend']) {
      if (guide === 'concepts') continue; // maths only
      expect(blocks.some((b) => b.file === `docs/${guide}.md`)).toBe(true);
    }
    expect(blocks.length).toBeGreaterThanOrEqual(8);
  });

  it('type-check', () => {
    const files = blocks.map((b) => join(OUT, `${slug(b)}.ts`));
    const program = ts.createProgram(files, COMPILER);
    const problems = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file
        ? `${d.file.fileName.replace(`${OUT}/`, '')}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}`
        : '';
      return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    expect(problems).toEqual([]);
  });

  for (const b of blocks.filter(runnable)) {
    it(`runs: ${b.file}:${b.line}`, () => {
      const js = ts.transpileModule(b.code, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      }).outputText;
      const file = join(OUT, `${slug(b)}.mjs`);
      writeFileSync(file, `import * as tfSetup from '@tensorflow/tfjs';\ntfSetup.enableProdMode();\n${js}`);
      // Throws (failing the test) on a non-zero exit code, with stderr in the message.
      const out = execFileSync(process.execPath, [file], {
        cwd: OUT,
        encoding: 'utf8',
        timeout: 180_000,
        stdio: 'pipe',
      });
      expect(typeof out).toBe('string');
    });
  }
});
