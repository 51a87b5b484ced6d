import { createDefaultEsmPreset } from 'ts-jest';

/** @type {import('jest').Config} */
export default {
  ...createDefaultEsmPreset({ tsconfig: { isolatedModules: true } }),
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  cacheDirectory: '<rootDir>/.jest-cache',
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  setupFiles: ['<rootDir>/test/helpers/setup-env.ts'],
  // Generous: a file's setup opens PGlite (WASM) or a real sandbox, and CI shares 2 cores with
  // the other worker. No test asserts a timing; this only bounds a hang.
  testTimeout: 120_000,
  maxWorkers: 2,
  // A worker keeps what earlier files left behind (PGlite's WASM memory, module graphs);
  // one that had grown to 5 GB ran the fuzz sample 40x slower than a fresh one. Jest
  // replaces a worker past this size between files.
  workerIdleMemoryLimit: '1536MB',
  // nock's interceptor lives on the global scope for the whole worker; Jest's soft global
  // cleanup between files only produces warnings about it.
  testEnvironmentOptions: { globalsCleanup: 'off' },
};
