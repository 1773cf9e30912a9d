// Writes RGBA pixels as an indexed-colour PNG (at most 256 colours, chosen by
// gifenc's quantiser, which the CLI already uses for its GIFs). The figures
// of the docs are plots: flat colours and anti-aliased edges, so a palette
// keeps them sharp at a third to a fifth of resvg's truecolour size.
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { applyPalette, quantize } = createRequire(join(ROOT, 'apps', 'cli', 'package.json'))('gifenc');

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 of the bytes (PNG's chunk checksum). */
export function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/**
 * Encodes `rgba` (width × height × 4 bytes, opaque) as a PNG of colour type 3
 * (palette) with the smallest bit depth that holds the palette.
 */
export function encodePalettePng({ width, height, rgba }, maxColors = 256) {
  if (rgba.length !== width * height * 4) {
    throw new RangeError(`rgba has ${rgba.length} bytes, expected ${width} × ${height} × 4`);
  }
  const palette = quantize(rgba, maxColors);
  const index = applyPalette(rgba, palette);
  const depth = palette.length <= 2 ? 1 : palette.length <= 4 ? 2 : palette.length <= 16 ? 4 : 8;
  const perByte = 8 / depth;
  const stride = Math.ceil(width / perByte);
  // Filter type 0 (none) on every row: the PNG specification's advice for palette images.
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (stride + 1) + 1;
    for (let x = 0; x < width; x++) {
      const i = index[y * width + x];
      const at = row + Math.floor(x / perByte);
      raw[at] |= i << (8 - depth * (1 + (x % perByte)));
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = depth;
  header[9] = 3; // colour type: palette
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('PLTE', Buffer.from(palette.flat())), // rgb565 palettes: [r, g, b] entries
    chunk('IDAT', deflateSync(raw, { level: 9, memLevel: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
