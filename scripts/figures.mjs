#!/usr/bin/env node
// Regenerates the figures of the README and the guides (docs/images/) with
// the project's own `dcem` commands, then writes docs/images/README.md (each
// image, its size, the command that made it and the pages that show it).
//
//   pnpm figures                          every figure (after `pnpm build`; minutes: the planner
//                                         study alone takes 134 s on 2 idle cores)
//   pnpm figures --only demo,mujoco       some of them (names: --list)
//   pnpm figures --planet-run DIR         also the PlaNet learning curve, from the output
//                                         folder of a `pnpm dcem planet` run (read only)
//   pnpm figures --playground DIR         also the MuJoCo page's screenshot, from the folder
//                                         its e2e test writes (apps/playground/reports)
//   pnpm figures --list                   the figures and their commands
//   pnpm figures --index                  only rewrite docs/images/README.md
//
// Each command writes its plots (SVG, PNG) and animations (GIF) into
// out/figures/<name>/; the plots are rasterised again from their SVG with the
// CLI's renderer (resvg and the bundled DejaVu fonts) and stored as
// palette PNGs (scripts/palette-png.mjs), a fraction of the size; GIFs are
// copied as they are.
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePalettePng } from './palette-png.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const IMAGES = join(ROOT, 'docs', 'images');
const CLI = join(ROOT, 'apps', 'cli', 'dist', 'main.js');

/**
 * The figures: a `dcem` command (run with `--seed 0 --quiet --out out/figures/<name>`)
 * and the files it writes that become images (output file → image name).
 */
const FIGURES = [
  {
    name: 'demo',
    args: ['demo', '--backend', 'wasm', '--frame-every', '0'],
    files: {
      'cem-iterates.svg': 'cem-iterates.png',
      'dcem-iterates.svg': 'dcem-iterates.png',
      'learn-loss.svg': 'learn-loss.png',
    },
  },
  {
    name: 'temperature-0.1',
    args: ['optimize', '--backend', 'wasm', '--method', 'dcem', '--temperature', '0.1'],
    files: { 'bumps-dcem-iterates.svg': 'dcem-temperature-0.1.png' },
  },
  {
    name: 'temperature-10',
    args: ['optimize', '--backend', 'wasm', '--method', 'dcem', '--temperature', '10'],
    files: { 'bumps-dcem-iterates.svg': 'dcem-temperature-10.png' },
  },
  {
    name: 'pendulum',
    args: [
      'pendulum',
      '--backend',
      'wasm',
      '--mode',
      'mpc',
      '--planner',
      'icem',
      '--horizon',
      '20',
      '--mpc-steps',
      '100',
    ],
    files: { 'pendulum.svg': 'pendulum-mpc-icem.png' },
  },
  {
    name: 'planners',
    args: ['planners', '--backend', 'cpu'],
    files: { 'planners.svg': 'planners.png' },
  },
  {
    name: 'mujoco',
    args: [
      'mujoco',
      '--backend',
      'wasm',
      '--env',
      'cheetah-run',
      '--planner',
      'icem',
      '--steps',
      '100',
      '--frames',
      '50',
    ],
    files: {
      'mujoco-cheetah-run-icem-returns.svg': 'mujoco-cheetah-run-icem-returns.png',
      'mujoco-cheetah-run-icem.gif': 'mujoco-cheetah-run-icem.gif',
    },
  },
  {
    name: 'planet',
    // A long run (hours): not run here. `--planet-run DIR` takes its curve from
    // the output folder of the command below.
    external:
      'pnpm dcem planet --env cartpole-swingup --planner icem --samples 100 --iterations 10 --episodes 100 --eval-every 10 --out DIR',
    files: { 'planet-learning-curve.svg': 'planet-cartpole-learning-curve.png' },
  },
  {
    name: 'playground',
    // A screenshot of the MuJoCo page in headless chromium, saved by its
    // end-to-end test; `--playground DIR` takes it from that folder.
    external:
      'pnpm --filter @dcem/playground test (e2e/mujoco.test.ts saves apps/playground/reports/mujoco.png)',
    option: 'playground',
    files: { 'mujoco.png': 'playground-mujoco.png' },
  },
];

/** The command line a figure's files come from, as a reader would type it. */
function commandOf(figure) {
  return figure.external ?? `pnpm dcem ${figure.args.join(' ')} --seed 0`;
}

function parseArgs(argv) {
  const options = { only: undefined, planetRun: undefined, playground: undefined, list: false, index: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--only') options.only = value().split(',');
    else if (arg === '--planet-run') options.planetRun = resolve(value());
    else if (arg === '--playground') options.playground = resolve(value());
    else if (arg === '--list') options.list = true;
    else if (arg === '--index') options.index = true;
    else
      throw new Error(`unknown argument ${arg} (known: --only, --planet-run, --playground, --list, --index)`);
  }
  const names = FIGURES.map((f) => f.name);
  for (const name of options.only ?? []) {
    if (!names.includes(name)) throw new Error(`--only: no figure "${name}" (figures: ${names.join(', ')})`);
  }
  return options;
}

/** Rasterises an SVG plot with the CLI's renderer and writes it as a palette PNG. */
async function writeImage(source, target) {
  if (target.endsWith('.png') && source.endsWith('.svg')) {
    const { svgToRgba } = await import(join(ROOT, 'apps', 'cli', 'dist', 'plot.js'));
    writeFileSync(target, encodePalettePng(svgToRgba(readFileSync(source, 'utf8'))));
  } else {
    copyFileSync(source, target);
  }
}

/** Markdown files that may show images: the README and the guides. */
function pages() {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((n) => n.endsWith('.md'))
    .map((n) => join(ROOT, 'docs', n));
  return [join(ROOT, 'README.md'), ...docs];
}

/** Writes docs/images/README.md: every image, its size, its command and the pages that show it. */
function writeIndex() {
  const rows = [];
  let total = 0;
  for (const figure of FIGURES) {
    for (const image of Object.values(figure.files)) {
      const path = join(IMAGES, image);
      if (!existsSync(path)) continue;
      const size = statSync(path).size;
      total += size;
      const shownIn = pages()
        .filter((page) => readFileSync(page, 'utf8').includes(`images/${image}`))
        .map((page) => `[${relative(ROOT, page)}](${relative(IMAGES, page)})`);
      rows.push(
        `| [${image}](${image}) | ${(size / 1024).toFixed(0)} KiB | \`${commandOf(figure)}\` | ${shownIn.join(', ') || '—'} |`,
      );
    }
  }
  const text = [
    '# Figures of the README and the guides',
    '',
    'Made by the commands below (seed 0) and regenerated with `pnpm figures`',
    '(`node scripts/figures.mjs`; `--only NAME,…` for some of them, `--list` for the names,',
    '`--index` to rewrite only this page).',
    'The PlaNet learning curve comes from a run of hours: `pnpm figures --planet-run DIR` takes it',
    "from that run's output folder; the MuJoCo page's screenshot comes from the playground's",
    'end-to-end test: `pnpm figures --playground apps/playground/reports` takes it.',
    "Plots are rasterised from the commands' SVG and stored as palette PNGs;",
    '`tests/src/figures.test.ts` checks that every image the pages show exists.',
    '',
    '| image | size | command | shown in |',
    '| --- | ---: | --- | --- |',
    ...rows,
    '',
    `Total: ${(total / 1024).toFixed(0)} KiB.`,
    '',
  ].join('\n');
  writeFileSync(join(IMAGES, 'README.md'), text);
  return total;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.list) {
    for (const figure of FIGURES) {
      console.log(`${figure.name}: ${commandOf(figure)}\n  → ${Object.values(figure.files).join(', ')}`);
    }
    return;
  }
  if (options.index) {
    console.log(
      `docs/images: ${(writeIndex() / 1024).toFixed(0)} KiB in all; index in docs/images/README.md`,
    );
    return;
  }
  if (!existsSync(CLI)) throw new Error(`${relative(ROOT, CLI)} is missing: run \`pnpm build\` first`);
  mkdirSync(IMAGES, { recursive: true });
  for (const figure of FIGURES) {
    if (options.only !== undefined && !options.only.includes(figure.name)) continue;
    let folder;
    if (figure.external !== undefined) {
      const flag = figure.option ?? 'planet-run';
      folder = figure.option === 'playground' ? options.playground : options.planetRun;
      if (folder === undefined) {
        console.log(`${figure.name}: kept (--${flag} DIR takes it from ${figure.external})`);
        continue;
      }
    } else {
      folder = join(ROOT, 'out', 'figures', figure.name);
      const started = Date.now();
      execFileSync(process.execPath, [CLI, ...figure.args, '--seed', '0', '--quiet', '--out', folder], {
        cwd: ROOT,
        stdio: 'inherit',
      });
      console.log(`${figure.name}: ${commandOf(figure)} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    }
    for (const [source, image] of Object.entries(figure.files)) {
      const path = join(folder, source);
      if (!existsSync(path)) throw new Error(`${figure.name}: the command wrote no ${path}`);
      await writeImage(path, join(IMAGES, image));
      console.log(`  ${relative(ROOT, join(IMAGES, image))}: ${statSync(join(IMAGES, image)).size} bytes`);
    }
  }
  const total = writeIndex();
  console.log(`docs/images: ${(total / 1024).toFixed(0)} KiB in all; index in docs/images/README.md`);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
