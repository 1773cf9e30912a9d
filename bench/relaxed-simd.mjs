#!/usr/bin/env node
// What WebAssembly's relaxed SIMD (its fused multiply-add, f32x4.relaxed_madd)
// would bring to our matrix products: the register block of the threaded
// products (packages/tfjs/assembly/gemm-simd.ts: 4 rows × 8 columns, eight
// 4-lane accumulators, broadcast loads of A) compiled twice, with a multiply
// then an add (what the library ships: 128-bit SIMD has no fused multiply-add)
// and with relaxed_madd, timed on one thread at the GRU's product of
// planet_imagine ([1000, 200]·[200, 600]) and at dcem_regression's
// ([10000, 128]·[128, 128]).
//
//   node bench/relaxed-simd.mjs [--repeats 30] [--json]
//
// Node 20 compiles relaxed SIMD only with --experimental-wasm-relaxed-simd
// (Chromium has it by default since version 114): the script restarts itself
// with that flag, and with --no-liftoff so that every timed call runs
// TurboFan's code. The two kernels alternate call by call, so they share the
// machine's conditions; the table gives medians and the ratio of the
// minimums. This measures the kernel alone (operands in place, one thread),
// not the library: the library does not use relaxed SIMD.
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median } from './timing.mjs';

const FLAGS = ['--experimental-wasm-relaxed-simd', '--no-liftoff'];
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');

if (!FLAGS.every((f) => process.execArgv.includes(f))) {
  const r = spawnSync(
    process.execPath,
    [...FLAGS, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    {
      stdio: 'inherit',
    },
  );
  process.exit(r.status ?? 1);
}

const args = process.argv.slice(2);
let repeats = 30;
let json = false;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--json') json = true;
  else if (a === '--repeats') {
    const raw = args[++i];
    repeats = Number(raw);
    if (!Number.isInteger(repeats) || repeats < 1) {
      console.error(`relaxed-simd: --repeats must be an integer ≥ 1, received ${JSON.stringify(raw)}`);
      process.exit(2);
    }
  } else {
    console.error(`relaxed-simd: unknown option ${JSON.stringify(a)} (known: --repeats, --json)`);
    process.exit(2);
  }
}

// The register block of gemmRows (panels of 64 columns, 4 × 8 blocks), for
// m a multiple of 4 and n of 64; `fused` picks the multiply-add.
const SOURCE = `
@inline
function block(a: usize, b: usize, c: usize, m: i32, n: i32, k: i32, fused: bool): void {
  const rowA = <usize>k << 2;
  const rowB = <usize>n << 2;
  for (let j0 = 0; j0 < n; j0 += 64) {
    for (let i = 0; i < m; i += 4) {
      const a0 = a + <usize>i * rowA;
      const a1 = a0 + rowA;
      const a2 = a1 + rowA;
      const a3 = a2 + rowA;
      for (let j = j0; j < j0 + 64; j += 8) {
        let s00 = f32x4.splat(0); let s01 = f32x4.splat(0);
        let s10 = f32x4.splat(0); let s11 = f32x4.splat(0);
        let s20 = f32x4.splat(0); let s21 = f32x4.splat(0);
        let s30 = f32x4.splat(0); let s31 = f32x4.splat(0);
        let pb = b + (<usize>j << 2);
        for (let p = 0; p < k; p++) {
          const off = <usize>p << 2;
          const b0 = v128.load(pb);
          const b1 = v128.load(pb, 16);
          const x0 = v128.load32_splat(a0 + off);
          const x1 = v128.load32_splat(a1 + off);
          const x2 = v128.load32_splat(a2 + off);
          const x3 = v128.load32_splat(a3 + off);
          if (fused) {
            s00 = f32x4.relaxed_madd(x0, b0, s00); s01 = f32x4.relaxed_madd(x0, b1, s01);
            s10 = f32x4.relaxed_madd(x1, b0, s10); s11 = f32x4.relaxed_madd(x1, b1, s11);
            s20 = f32x4.relaxed_madd(x2, b0, s20); s21 = f32x4.relaxed_madd(x2, b1, s21);
            s30 = f32x4.relaxed_madd(x3, b0, s30); s31 = f32x4.relaxed_madd(x3, b1, s31);
          } else {
            s00 = f32x4.add(s00, f32x4.mul(x0, b0)); s01 = f32x4.add(s01, f32x4.mul(x0, b1));
            s10 = f32x4.add(s10, f32x4.mul(x1, b0)); s11 = f32x4.add(s11, f32x4.mul(x1, b1));
            s20 = f32x4.add(s20, f32x4.mul(x2, b0)); s21 = f32x4.add(s21, f32x4.mul(x2, b1));
            s30 = f32x4.add(s30, f32x4.mul(x3, b0)); s31 = f32x4.add(s31, f32x4.mul(x3, b1));
          }
          pb += rowB;
        }
        const pc = c + <usize>i * rowB + (<usize>j << 2);
        v128.store(pc, s00); v128.store(pc, s01, 16);
        v128.store(pc + rowB, s10); v128.store(pc + rowB, s11, 16);
        v128.store(pc + 2 * rowB, s20); v128.store(pc + 2 * rowB, s21, 16);
        v128.store(pc + 3 * rowB, s30); v128.store(pc + 3 * rowB, s31, 16);
      }
    }
  }
}
export function plain(a: usize, b: usize, c: usize, m: i32, n: i32, k: i32): void { block(a, b, c, m, n, k, false); }
export function fused(a: usize, b: usize, c: usize, m: i32, n: i32, k: i32): void { block(a, b, c, m, n, k, true); }
`;

// AssemblyScript is a dev dependency of @dcem/tfjs (its kernels' compiler).
const asc = (
  await import(
    pathToFileURL(join(root, 'packages', 'tfjs', 'node_modules', 'assemblyscript', 'dist', 'asc.js')).href
  )
).default;
let binary;
const messages = [];
const sink = { write: (s) => messages.push(String(s)) };
const { error } = await asc.main(
  [
    'block.ts',
    '-O3',
    '--runtime',
    'stub',
    '--noAssert',
    '--enable',
    'simd,relaxed-simd',
    '--initialMemory',
    '400',
    '--outFile',
    'block.wasm',
  ],
  {
    stdout: sink,
    stderr: sink,
    readFile: (name) => (name === 'block.ts' ? SOURCE : null),
    writeFile: (name, contents) => {
      if (name.endsWith('.wasm')) binary = contents;
    },
    listFiles: () => [],
  },
);
if (error || binary === undefined) {
  console.error(
    `relaxed-simd: AssemblyScript failed: ${error?.message ?? 'no binary'}\n${messages.join('')}`,
  );
  process.exit(1);
}
const { instance } = await WebAssembly.instantiate(binary);
const { plain, fused, memory } = instance.exports;

const SHAPES = [
  { name: 'planet_imagine GRU product', m: 1000, k: 200, n: 600 },
  { name: 'dcem_regression layer', m: 10000, k: 128, n: 128 },
];
const load = loadavg()[0];
const rows = [];
for (const { name, m, k, n } of SHAPES) {
  const a = 4096;
  const b = a + m * k * 4;
  const c = b + k * n * 4;
  const f = new Float32Array(memory.buffer);
  let x = 1;
  for (let i = a / 4; i < (c + m * n * 4) / 4; i++) {
    x = (x * 16807) % 2147483647;
    f[i] = x / 2147483647 - 0.5;
  }
  // Both kernels agree to float32 rounding (the fused one rounds once per step).
  plain(a, b, c, m, n, k);
  const ref = f.slice(c / 4, c / 4 + m * n);
  fused(a, b, c, m, n, k);
  let maxDiff = 0;
  for (let i = 0; i < m * n; i++) maxDiff = Math.max(maxDiff, Math.abs(f[c / 4 + i] - ref[i]));
  const times = { plain: [], fused: [] };
  for (let r = 0; r < repeats; r++) {
    for (const [key, fn] of [
      ['plain', plain],
      ['fused', fused],
    ]) {
      const s = performance.now();
      fn(a, b, c, m, n, k);
      times[key].push(performance.now() - s);
    }
  }
  const flop = 2 * m * n * k;
  const row = {
    shape: name,
    m,
    k,
    n,
    plain_ms: median(times.plain),
    fused_ms: median(times.fused),
    plain_gflops: flop / median(times.plain) / 1e6,
    fused_gflops: flop / median(times.fused) / 1e6,
    ratio_min: Math.min(...times.plain) / Math.min(...times.fused),
    max_abs_diff: maxDiff,
  };
  rows.push(row);
  if (json) console.log(JSON.stringify(row));
}
const loadAfter = loadavg()[0];
if (!json) {
  console.log(
    `one thread, ${repeats} alternating calls each; load average ${load.toFixed(2)} → ${loadAfter.toFixed(2)}`,
  );
  console.log(
    '| product | mul + add: ms (GFLOP/s) | relaxed_madd: ms (GFLOP/s) | speed-up (min / min) | max |difference| |',
  );
  console.log('|---|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.shape} [${r.m}, ${r.k}]·[${r.k}, ${r.n}] | ${r.plain_ms.toFixed(2)} (${r.plain_gflops.toFixed(1)}) | ${r.fused_ms.toFixed(2)} (${r.fused_gflops.toFixed(1)}) | ${r.ratio_min.toFixed(2)} | ${r.max_abs_diff.toExponential(1)} |`,
    );
  }
}
