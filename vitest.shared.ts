import { defineConfig } from 'vitest/config';

/** Vitest settings shared by every package (each package's vitest.config.ts uses them). */
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Results for .ci/run, which sums them over packages.
    reporters: ['default', ['json', { outputFile: 'reports/vitest.json' }]],
  },
});
