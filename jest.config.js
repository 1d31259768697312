// Three projects: unit (pure, no services), integration (the real local stack) and e2e
// (the hub as a user drives it). The integration and e2e projects bring the stack up
// first (`liandong stack up`, a no-op when it is already running).
const base = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }] },
};

module.exports = {
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/tests/unit/**/*.test.ts'] },
    {
      ...base,
      displayName: 'integration',
      testMatch: ['<rootDir>/tests/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/tests/support/global-setup.js',
      setupFilesAfterEnv: ['<rootDir>/tests/support/slow-timeout.js'],
    },
    {
      ...base,
      displayName: 'e2e',
      testMatch: ['<rootDir>/tests/e2e/**/*.test.ts'],
      globalSetup: '<rootDir>/tests/support/global-setup.js',
      setupFilesAfterEnv: ['<rootDir>/tests/support/slow-timeout.js'],
    },
  ],
};
