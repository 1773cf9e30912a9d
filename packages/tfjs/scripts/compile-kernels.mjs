// Compiles assembly/kernels.ts with the AssemblyScript compiler (a dev
// dependency) and returns the WebAssembly binary.
import { join } from 'node:path';
import asc from 'assemblyscript/asc';

/** The flags the kernels are compiled with (also recorded in the generated file). */
export const ASC_FLAGS = ['-O3', '--runtime', 'stub', '--noAssert', '--enable', 'simd'];

/**
 * @param {string} packageRoot The folder of @dcem/tfjs.
 * @returns {Promise<Uint8Array>} The module's bytes.
 */
export async function compileKernels(packageRoot) {
  let binary;
  const messages = [];
  const sink = { write: (s) => messages.push(String(s)) };
  const { error } = await asc.main(
    [join(packageRoot, 'assembly', 'kernels.ts'), ...ASC_FLAGS, '--outFile', 'kernels.wasm'],
    {
      stdout: sink,
      stderr: sink,
      writeFile: (name, contents) => {
        if (name.endsWith('.wasm')) binary = contents;
      },
    },
  );
  if (error || binary === undefined) {
    throw new Error(`AssemblyScript failed: ${error?.message ?? 'no binary'}\n${messages.join('')}`);
  }
  return binary;
}
