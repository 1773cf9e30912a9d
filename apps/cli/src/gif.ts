import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

// gifenc's entry point is CommonJS; load it as such under every loader.
const { applyPalette, GIFEncoder, quantize } = createRequire(import.meta.url)(
  'gifenc',
) as typeof import('gifenc');

/** One RGBA frame. */
export interface Frame {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/**
 * Writes frames (all of the same size) as an animated GIF that loops, each
 * shown `delayMs` milliseconds (the last one three times as long).
 */
export function writeGif(path: string, frames: Frame[], delayMs = 120): string {
  if (frames.length === 0) throw new RangeError('writeGif needs at least one frame');
  const gif = GIFEncoder();
  frames.forEach((frame, i) => {
    const palette = quantize(frame.rgba, 256);
    const index = applyPalette(frame.rgba, palette);
    const delay = i === frames.length - 1 ? 3 * delayMs : delayMs;
    gif.writeFrame(index, frame.width, frame.height, { palette, delay, repeat: 0 });
  });
  gif.finish();
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, gif.bytes());
  return path;
}
