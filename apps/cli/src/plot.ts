import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

const require = createRequire(import.meta.url);
const FONT_DIR = join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSans-Oblique.ttf'].map((f) =>
  join(FONT_DIR, f),
);
const FONT = 'DejaVu Sans';

/** A vega-lite spec (any top-level spec). */
export type PlotSpec = TopLevelSpec;

/** Renders a vega-lite spec to SVG text, headless (no browser). */
export async function toSvg(spec: PlotSpec): Promise<string> {
  const withFont = {
    ...spec,
    config: { font: FONT, ...(spec as { config?: object }).config },
  } as PlotSpec;
  const view = new vega.View(vega.parse(compile(withFont).spec), { renderer: 'none' });
  const svg = await view.toSVG(2);
  view.finalize();
  return svg;
}

function rasterise(svg: string) {
  const resvg = new Resvg(svg, {
    font: { fontFiles: FONT_FILES, loadSystemFonts: false, defaultFontFamily: FONT },
    background: 'white',
  });
  return resvg.render();
}

/** Rasterises SVG text to PNG with resvg and the bundled DejaVu fonts (the same on every machine). */
export function svgToPng(svg: string): Buffer {
  return rasterise(svg).asPng();
}

/** Rasterises SVG text to raw RGBA pixels (for animations). */
export function svgToRgba(svg: string): { width: number; height: number; rgba: Uint8Array } {
  const image = rasterise(svg);
  return { width: image.width, height: image.height, rgba: new Uint8Array(image.pixels) };
}

/**
 * Writes a plot as `<path>.svg` and `<path>.png` (creating the folder) and
 * returns the two file names.
 */
export async function writePlot(path: string, spec: PlotSpec): Promise<string[]> {
  mkdirSync(dirname(path), { recursive: true });
  const svg = await toSvg(spec);
  writeFileSync(`${path}.svg`, svg);
  writeFileSync(`${path}.png`, svgToPng(svg));
  return [`${path}.svg`, `${path}.png`];
}
