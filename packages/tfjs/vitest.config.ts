import { defineConfig } from 'vitest/config';
import shared from '../../vitest.shared.js';

const timeouts = { testTimeout: shared.test?.testTimeout, hookTimeout: shared.test?.hookTimeout };

/**
 * Two runs, one report (reports/vitest.json, which .ci/run counts):
 * - `cpu-wasm`: every test, on the tfjs cpu and wasm backends;
 * - `webgpu`: the backend conformance cases, the golden LML and DCEM cases,
 *   the backend-parametrised LML and DCEM gradient checks, the read counts
 *   and the WebGPU
 *   tests, on tfjs's WebGPU backend (DCEM_TEST_BACKEND=webgpu). Without a
 *   GPU that is Dawn on Mesa's llvmpipe through OpenGL ES (.ci/run installs
 *   the Mesa packages; see docs/gpu.md).
 */
export default defineConfig({
  test: {
    reporters: shared.test?.reporters,
    projects: [
      {
        test: {
          name: 'cpu-wasm',
          include: ['src/**/*.test.ts'],
          exclude: ['src/**/*.webgpu.test.ts'],
          ...timeouts,
        },
      },
      {
        test: {
          name: 'webgpu',
          include: [
            'src/conformance.test.ts',
            'src/golden-lml.test.ts',
            'src/golden-dcem.test.ts',
            'src/gradients.test.ts',
            'src/reads.test.ts',
            'src/**/*.webgpu.test.ts',
          ],
          env: { DCEM_TEST_BACKEND: 'webgpu' },
          ...timeouts,
        },
      },
    ],
  },
});
