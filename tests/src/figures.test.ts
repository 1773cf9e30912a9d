// The figures of the README and the guides: every image a page shows exists,
// is a real PNG/GIF/SVG/JPEG and is small, has an alternative text, and was
// made by a command of scripts/figures.mjs (`pnpm figures`), which lists it in
// docs/images/README.md; the README opens with one and the guides whose code
// makes figures show them. (The built site's images: docs-site.test.ts.)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { imageReferences } from '../../scripts/doc-images.mjs';
import { crc32, encodePalettePng } from '../../scripts/palette-png.mjs';
import { ROOT } from './repo.test-utils.js';

const IMAGES = join(ROOT, 'docs', 'images');
const MAX_IMAGE_BYTES = 300 * 1024;
const MAX_TOTAL_BYTES = 2 * 1024 * 1024;

/** The README and every guide of docs/. */
const PAGES = [
  join(ROOT, 'README.md'),
  ...readdirSync(join(ROOT, 'docs'))
    .filter((n) => n.endsWith('.md'))
    .map((n) => join(ROOT, 'docs', n)),
];

/** The image format of a file, from its first bytes. */
function formatOf(bytes: Buffer): string | undefined {
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
    return 'png';
  if (bytes.subarray(0, 6).toString('latin1') === 'GIF89a') return 'gif';
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'jpeg';
  if (/^\s*(<\?xml[^>]*>\s*)?<svg\b/.test(bytes.subarray(0, 200).toString('utf8'))) return 'svg';
  return undefined;
}

/** A minimal PNG reader for the encoder's output: palette, 8-bit or less, filter 0, one IDAT or more. */
function readPalettePng(png: Buffer): { width: number; height: number; rgba: Uint8Array } {
  let at = 8;
  let width = 0;
  let height = 0;
  let depth = 0;
  let palette = Buffer.alloc(0);
  const idat: Buffer[] = [];
  while (at < png.length) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    expect(png.readUInt32BE(at + 8 + length), `CRC of ${type}`).toBe(
      crc32(png.subarray(at + 4, at + 8 + length)),
    );
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      depth = data[8] as number;
      expect(data[9], 'colour type').toBe(3);
    } else if (type === 'PLTE') palette = Buffer.from(data);
    else if (type === 'IDAT') idat.push(Buffer.from(data));
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = Math.ceil((width * depth) / 8);
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (stride + 1)], 'filter type').toBe(0);
    for (let x = 0; x < width; x++) {
      const byte = raw[y * (stride + 1) + 1 + Math.floor((x * depth) / 8)] as number;
      const shift = 8 - depth - ((x * depth) % 8);
      const index = (byte >> shift) & ((1 << depth) - 1);
      rgba.set([...palette.subarray(3 * index, 3 * index + 3), 255], 4 * (y * width + x));
    }
  }
  return { width, height, rgba };
}

describe('figures of the README and the guides', () => {
  const references = PAGES.flatMap((page) =>
    imageReferences(page).map((ref) => ({ ...ref, where: `${relative(ROOT, page)}:${ref.line}` })),
  );

  it('every image a page shows exists in the repository and is a small PNG, GIF, SVG or JPEG', () => {
    expect(references.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const ref of references) {
      if (ref.path === undefined) {
        problems.push(`${ref.where}: ${ref.target} is not in the repository (commit the image)`);
        continue;
      }
      if (!existsSync(ref.path) || !statSync(ref.path).isFile()) {
        problems.push(`${ref.where}: ${ref.target} does not exist`);
        continue;
      }
      if (!ref.path.startsWith(IMAGES)) problems.push(`${ref.where}: ${ref.target} is not in docs/images/`);
      const bytes = readFileSync(ref.path);
      if (formatOf(bytes) === undefined) problems.push(`${ref.where}: ${ref.target} is not an image`);
      if (bytes.length > MAX_IMAGE_BYTES) {
        problems.push(`${ref.where}: ${ref.target} has ${bytes.length} bytes (at most ${MAX_IMAGE_BYTES})`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('every image has an alternative text', () => {
    const missing = references.filter((r) => r.kind !== 'source' && r.alt.trim() === '');
    expect(missing.map((r) => `${r.where}: ${r.target}`)).toEqual([]);
  });

  it('docs/images holds only shown images, listed in its README with their command, in a few hundred KiB', () => {
    const shown = new Set(references.map((r) => r.path));
    const index = readFileSync(join(IMAGES, 'README.md'), 'utf8');
    let total = 0;
    for (const name of readdirSync(IMAGES)) {
      if (name === 'README.md') continue;
      const path = join(IMAGES, name);
      total += statSync(path).size;
      expect(shown.has(path), `docs/images/${name} is shown by no page`).toBe(true);
      // The index row of the image names its command and its current size (pnpm figures rewrites it).
      const row = index.split('\n').find((line) => line.startsWith(`| [${name}](${name}) |`));
      expect(row, `docs/images/README.md lists ${name}`).toBeDefined();
      expect(row).toMatch(/`pnpm (dcem|--filter @dcem\/playground test) [^`]+`/);
      expect(row).toContain(`| ${(statSync(path).size / 1024).toFixed(0)} KiB |`);
      for (const ref of references.filter((r) => r.path === path)) {
        const page = ref.where.split(':')[0] as string;
        expect(row, `the row of ${name} names ${page} (pnpm figures --index)`).toContain(`[${page}](`);
      }
    }
    expect(total).toBeLessThan(MAX_TOTAL_BYTES);
  });

  it('every committed image is made by a command of `pnpm figures` (scripts/figures.mjs --list)', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'figures.mjs'), '--list'], {
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const name of readdirSync(IMAGES).filter((n) => n !== 'README.md')) {
      expect(r.stdout, name).toMatch(new RegExp(`→ .*\\b${name.replace(/[.]/g, '\\.')}\\b`));
    }
    const unknown = spawnSync(process.execPath, [join(ROOT, 'scripts', 'figures.mjs'), '--only', 'dmeo'], {
      encoding: 'utf8',
    });
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('no figure "dmeo"');
  });

  it('the README opens with a figure', () => {
    const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n');
    expect(lines[0]).toMatch(/^# /);
    const first = lines.slice(1).find((l) => l.trim() !== '');
    expect(first).toMatch(/^(<p\b|<img\b|!\[)/);
    expect(imageReferences(join(ROOT, 'README.md'))[0]?.line).toBeLessThan(8);
  });

  it('the guides whose code makes figures show them', () => {
    for (const guide of ['concepts', 'control', 'getting-started', 'mujoco', 'planet', 'planning']) {
      const images = imageReferences(join(ROOT, 'docs', `${guide}.md`));
      expect(images.length, `docs/${guide}.md`).toBeGreaterThan(0);
    }
  });

  it('the reader of image references: Markdown and HTML images, not those in code; relative paths resolved', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dcem-figures-'));
    const page = join(dir, 'page.md');
    writeFileSync(
      page,
      [
        '# A page',
        '',
        '![a plot](images/missing.png)',
        '<img src="https://example.com/x.png" alt="remote">',
        '<picture><source srcset="a.svg 1x, b.svg 2x"><img src="b.png" alt=""></picture>',
        '```md',
        '![in code](images/code.png)',
        '```',
        'and `![inline](images/inline.png)` code',
      ].join('\n'),
    );
    const refs = imageReferences(page);
    expect(refs.map((r) => [r.target, r.kind, r.line])).toEqual([
      ['images/missing.png', 'markdown', 3],
      ['https://example.com/x.png', 'img', 4],
      ['a.svg', 'source', 5],
      ['b.svg', 'source', 5],
      ['b.png', 'img', 5],
    ]);
    expect(refs[0]?.path).toBe(join(dir, 'images', 'missing.png'));
    expect(refs[0]?.alt).toBe('a plot');
    expect(refs[1]?.path).toBeUndefined();
    expect(refs[4]?.alt).toBe('');
  });
});

describe('palette PNG encoder of scripts/figures.mjs', () => {
  /** A width × height image of `colours` distinct opaque colours in stripes. */
  function stripes(width: number, height: number, colours: number) {
    const rgba = new Uint8Array(width * height * 4);
    for (let i = 0; i < width * height; i++) {
      const c = (i % width) % colours;
      rgba.set([(c * 37) % 256, (c * 91) % 256, 255 - ((c * 53) % 256), 255], 4 * i);
    }
    return { width, height, rgba };
  }

  for (const [colours, depth] of [
    [2, 1],
    [4, 2],
    [13, 4],
    [200, 8],
  ] as const) {
    it(`${colours} colours: bit depth ${depth}, the pixels come back exactly`, () => {
      const image = stripes(colours + 5, 3, colours); // a width that is no multiple of 8
      const png = encodePalettePng(image);
      expect(formatOf(png)).toBe('png');
      expect(png[24], 'bit depth').toBe(depth);
      const back = readPalettePng(png);
      expect([back.width, back.height]).toEqual([image.width, image.height]);
      expect(Buffer.from(back.rgba).equals(Buffer.from(image.rgba))).toBe(true);
    });
  }

  it('rejects pixels of the wrong length', () => {
    expect(() => encodePalettePng({ width: 2, height: 2, rgba: new Uint8Array(12) })).toThrow(RangeError);
  });
});
