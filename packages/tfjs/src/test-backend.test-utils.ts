// Test helpers: the tfjs backend a test run uses. `pnpm test` runs the
// package's tests twice (see vitest.config.ts): on cpu and wasm, and, with
// DCEM_TEST_BACKEND=webgpu, the conformance, golden and gradient cases on
// WebGPU (in CI: Dawn on Mesa's llvmpipe through OpenGL ES).
import * as tf from '@tensorflow/tfjs';
import { useBackend } from './select/select-backend.js';

/** `'webgpu'` when DCEM_TEST_BACKEND says so, else undefined (the cpu/wasm run). */
export const WEBGPU_RUN: 'webgpu' | undefined =
  process.env.DCEM_TEST_BACKEND === 'webgpu' ? 'webgpu' : undefined;

{
  const asked = process.env.DCEM_TEST_BACKEND;
  if (asked !== undefined && asked !== '' && asked !== 'webgpu') {
    throw new RangeError(`DCEM_TEST_BACKEND must be unset or "webgpu", received ${JSON.stringify(asked)}`);
  }
}

/** The backends a backend-parametrised test runs on in this run. */
export const TEST_BACKENDS: readonly string[] = WEBGPU_RUN === undefined ? ['cpu', 'wasm'] : ['webgpu'];

/** The backend the single-backend tests (golden cases) run on in this run. */
export const TEST_BACKEND: string = WEBGPU_RUN ?? 'cpu';

/**
 * Makes `name` the active tfjs backend. WebGPU goes through useBackend (it
 * registers the backend on the adapter found; a software adapter is fine
 * because it is asked for by name), the others through tf.setBackend.
 */
export async function activateBackend(name: string): Promise<void> {
  if (name === 'webgpu' && tf.findBackend('webgpu') === null) {
    await useBackend('webgpu');
  } else if (!(await tf.setBackend(name))) {
    throw new Error(`tf.setBackend(${JSON.stringify(name)}) failed`);
  }
  await tf.ready();
}
