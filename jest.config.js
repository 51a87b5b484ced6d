import { createDefaultEsmPreset } from 'ts-jest';

/** @type {import('jest').Config} */
export default {
  ...createDefaultEsmPreset({ tsconfig: { isolatedModules: true } }),
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  cacheDirectory: '<rootDir>/.jest-cache',
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  setupFiles: ['<rootDir>/test/helpers/setup-env.ts'],
  testTimeout: 30_000,
  maxWorkers: 2,
  // nock's interceptor lives on the global scope for the whole worker; Jest's soft global
  // cleanup between files only produces warnings about it.
  testEnvironmentOptions: { globalsCleanup: 'off' },
};
