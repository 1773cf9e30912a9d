#!/usr/bin/env node
// Prints, as one JSON line, the WebGPU adapter @dcem/tfjs finds on this
// machine and the backend selectBackend() chooses by itself (bench/gpu.sh).
// Needs the packages built (`pnpm build`).
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tfjsDir = join(root, 'packages', 'tfjs');
const tf = createRequire(join(tfjsDir, 'package.json'))('@tensorflow/tfjs');
const api = await import(join(tfjsDir, 'dist', 'index.js'));

// The default order: webgpu only on a GPU adapter.
const automatic = await api.selectBackend({ tf });
// By name: any adapter.
const named = await api.selectBackend({ tf, prefer: ['webgpu'] });
const webgpu = named.attempts[0] ?? {};
console.log(
  JSON.stringify({
    automatic: { active: automatic.active, message: automatic.message, attempts: automatic.attempts },
    webgpu: {
      ok: webgpu.ok === true,
      adapter: webgpu.adapter ?? null,
      reason: webgpu.reason ?? null,
      gpu: automatic.attempts.some((a) => a.name === 'webgpu' && a.ok),
    },
  }),
);
