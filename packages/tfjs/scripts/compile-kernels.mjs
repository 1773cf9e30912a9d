// Compiles the AssemblyScript kernels (assembly/*.ts) with the AssemblyScript
// compiler (a dev dependency) and returns the WebAssembly binaries.
import { join } from 'node:path';
import asc from 'assemblyscript/asc';

/** The flags the kernels are compiled with (also recorded in the generated file). */
export const ASC_FLAGS = ['-O3', '--runtime', 'stub', '--noAssert', '--enable', 'simd'];

/**
 * The flags of the matrix-product kernels (assembly/gemm-simd.ts): a shared,
 * imported memory (up to 1 GiB) that worker threads use too, with the
 * kernels' constant table at byte 2048.
 */
export const GEMM_ASC_FLAGS = [
  '-O3',
  '--runtime',
  'stub',
  '--noAssert',
  '--enable',
  'simd,threads',
  '--importMemory',
  '--sharedMemory',
  '--initialMemory',
  '1',
  '--maximumMemory',
  '16384',
  // The kernels' constants go above the host's control block (bytes 1024…1152).
  '--memoryBase',
  '2048',
];

async function compile(source, flags) {
  let binary;
  const messages = [];
  const sink = { write: (s) => messages.push(String(s)) };
  const { error } = await asc.main([source, ...flags, '--outFile', 'kernels.wasm'], {
    stdout: sink,
    stderr: sink,
    writeFile: (name, contents) => {
      if (name.endsWith('.wasm')) binary = contents;
    },
  });
  if (error || binary === undefined) {
    throw new Error(`AssemblyScript failed: ${error?.message ?? 'no binary'}\n${messages.join('')}`);
  }
  return binary;
}

/**
 * @param {string} packageRoot The folder of @dcem/tfjs.
 * @returns {Promise<Uint8Array>} The module's bytes.
 */
export function compileKernels(packageRoot) {
  return compile(join(packageRoot, 'assembly', 'fused-simd.ts'), ASC_FLAGS);
}

/**
 * @param {string} packageRoot The folder of @dcem/tfjs.
 * @returns {Promise<Uint8Array>} The matrix-product module's bytes.
 */
export function compileGemm(packageRoot) {
  return compile(join(packageRoot, 'assembly', 'gemm-simd.ts'), GEMM_ASC_FLAGS);
}
