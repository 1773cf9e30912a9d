/** CRC-32 of the bytes (PNG's chunk checksum). */
export function crc32(bytes: Uint8Array): number;
/** Encodes opaque RGBA pixels as a palette PNG of at most `maxColors` colours (default 256). */
export function encodePalettePng(
  image: { width: number; height: number; rgba: Uint8Array },
  maxColors?: number,
): Buffer;
