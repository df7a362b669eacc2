import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

const WORKERS = Math.max(2, availableParallelism() - 1);

export default defineConfig({
  test: {
    include: ['core/**/*.test.ts', 'plugins/**/*.test.ts', 'cli/**/*.test.{ts,tsx}', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The files of a worker share its module cache: Focal, TensorFlow.js and onnxruntime are
    // imported once a worker, not once a file (vitest import time 139 s → 16–20 s; docs/contributing.md).
    // test/file-setup.ts puts back after each file what a file may change in the process.
    isolate: false,
    setupFiles: ['test/file-setup.ts'],
    // vitest's default is one fewer than the cores: one worker on a 2-core machine. Two files at a
    // time, each with its share of the cores for Focal's threads: 808 s → 588 s there (docs/contributing.md).
    maxWorkers: WORKERS,
    env: process.env.FOCAL_THREADS ? {} : { FOCAL_THREADS: String(Math.max(1, Math.floor(availableParallelism() / WORKERS))) },
  },
});
