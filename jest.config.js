/**
 * Jest runs TypeScript through @swc/jest in CommonJS mode.
 * `@middy/core` and `fauxqs` ship ESM only, so they are transformed too, and fauxqs's
 * `import`-only export is mapped to its file (jest's CJS resolver ignores `import` conditions).
 * See ../shared/PLATFORM.md, "Jest with ESM-only packages".
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j|mj)sx?$': ['@swc/jest'] },
  transformIgnorePatterns: ['node_modules/(?!(@middy|fauxqs)/)'],
  moduleNameMapper: { '^fauxqs$': '<rootDir>/node_modules/fauxqs/dist/app.js' },
  testTimeout: 30000,
  // Tests start their own peers on free ports; two workers keep the 2-core machine busy, not swamped.
  maxWorkers: 2,
};
