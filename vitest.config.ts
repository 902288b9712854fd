import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // Two cores: run two test files at a time; GPU (lavapipe) tests are CPU-bound too.
    maxWorkers: 2,
  },
});
