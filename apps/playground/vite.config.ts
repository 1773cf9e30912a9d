import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Cross-origin isolation (SharedArrayBuffer, threaded WebAssembly) where the
// dev server and `vite preview` serve the pages; static hosts without these
// headers get the same pages, not isolated.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    target: 'es2022',
    chunkSizeWarningLimit: 4000,
    rollupOptions: {
      input: {
        index: fileURLToPath(new URL('./index.html', import.meta.url)),
        mujoco: fileURLToPath(new URL('./mujoco.html', import.meta.url)),
      },
    },
  },
  // The planner worker starts the rollout workers, and both import modules.
  worker: { format: 'es' },
  resolve: {
    alias: [
      // @dcem/tasks/mujoco loads @dcem/mujoco; in pages, its browser entry.
      { find: /^@dcem\/mujoco$/, replacement: '@dcem/mujoco/web' },
    ],
  },
  server: { headers: isolation },
  preview: { headers: isolation },
  optimizeDeps: { exclude: ['@tensorflow/tfjs-backend-wasm', '@mujoco/mujoco'] },
});
