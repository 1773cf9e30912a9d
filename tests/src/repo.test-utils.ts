// Helpers shared by the whole-repository tests.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the folder with pnpm-workspace.yaml). */
export const ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) dir = dirname(dir);
  return dir;
})();

/** This test package's folder. */
export const TESTS_DIR = join(ROOT, 'tests');

/** A fenced code block of a Markdown file. */
export interface CodeBlock {
  /** Markdown file, relative to the repository root. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The info string's language (`ts`, `sh`, …). */
  lang: string;
  /** The block's text. */
  code: string;
}

/** Every fenced block of a Markdown file. */
export function codeBlocks(path: string): CodeBlock[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  let open: { line: number; lang: string; body: string[] } | undefined;
  lines.forEach((text, i) => {
    const fence = /^```(\S*)/.exec(text);
    if (fence === null) {
      open?.body.push(text);
      return;
    }
    if (open === undefined) {
      open = { line: i + 1, lang: fence[1] ?? '', body: [] };
    } else {
      blocks.push({
        file: relative(ROOT, path),
        line: open.line,
        lang: open.lang,
        code: open.body.join('\n'),
      });
      open = undefined;
    }
  });
  return blocks;
}

/** The Markdown files people read: the guides, every README and CONTRIBUTING.md. */
export function documentationFiles(): string[] {
  const files = [join(ROOT, 'README.md'), join(ROOT, 'CONTRIBUTING.md')];
  for (const group of ['packages', 'apps']) {
    for (const name of readdirSync(join(ROOT, group))) {
      const readme = join(ROOT, group, name, 'README.md');
      if (existsSync(readme)) files.push(readme);
    }
  }
  for (const name of readdirSync(join(ROOT, 'docs'))) {
    if (name.endsWith('.md')) files.push(join(ROOT, 'docs', name));
  }
  return files;
}
