import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/e2e/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Two test files at a time: much of a file's time is spent waiting on servers and child
    // processes, so two overlap well even on 2 cores (vitest's default there is one at a time).
    maxWorkers: 2,
    // One throwaway PostgreSQL cluster for the run (loopback only); its tests skip or fail without it.
    globalSetup: ['test/setup/postgres-cluster.ts'],
  },
});
