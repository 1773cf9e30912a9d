// The images a Markdown page shows: Markdown images `![alt](target)` and the
// HTML tags <img src|srcset> and <source srcset>, outside code blocks, inline
// code and comments. Shared by scripts/check-site-images.mjs and
// tests/src/figures.test.ts.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** The text with fenced code blocks, inline code and HTML comments blanked out (lines kept). */
export function withoutCode(text) {
  return text
    .replace(/^```[\s\S]*?^```/gm, (block) => block.replace(/[^\n]/g, ' '))
    .replace(/<!--[\s\S]*?-->/g, (c) => c.replace(/[^\n]/g, ' '))
    .replace(/`[^`\n]*`/g, (code) => ' '.repeat(code.length));
}

/**
 * Every image that the Markdown file at `file` shows, in order:
 * `{ target, kind, alt, line, path }`: `kind` is `markdown`, `img` or
 * `source`, `alt` the alternative text ('' when there is none), `path` the
 * file a relative target names (undefined for URLs with a scheme).
 */
export function imageReferences(file) {
  const text = withoutCode(readFileSync(file, 'utf8'));
  const lineOf = (index) => text.slice(0, index).split('\n').length;
  const found = [];
  const add = (target, kind, alt, index) => {
    const path = /^[a-z][a-z0-9+.-]*:|^\/\//i.test(target)
      ? undefined
      : resolve(dirname(file), decodeURIComponent(target.split(/[?#]/)[0] ?? ''));
    found.push({ target, kind, alt: alt ?? '', line: lineOf(index), path, index });
  };
  for (const m of text.matchAll(/!\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    add(m[2], 'markdown', m[1], m.index);
  }
  for (const tag of text.matchAll(/<(img|source)\b[^>]*>/gi)) {
    const alt = /\salt\s*=\s*"([^"]*)"/i.exec(tag[0])?.[1];
    for (const attr of tag[0].matchAll(/\s(src|srcset)\s*=\s*"([^"]*)"/gi)) {
      const values =
        attr[1].toLowerCase() === 'src'
          ? [attr[2]]
          : attr[2].split(',').map((c) => c.trim().split(/\s+/)[0] ?? '');
      for (const value of values) if (value !== '') add(value, tag[1].toLowerCase(), alt, tag.index);
    }
  }
  return found.sort((a, b) => a.index - b.index).map(({ index, ...ref }) => ref);
}
