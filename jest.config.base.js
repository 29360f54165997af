// The jest setup every package's suite shares (each package's jest.config.js names what differs).
// Native pollers, worker threads, ptys and timing: test files run one at a time in one worker, so
// they do not disturb each other on a 2-core machine.
/** @returns {import('jest').Config} */
module.exports = ({ testMatch = ['<rootDir>/test/**/*.test.ts'], testTimeout = 30000 } = {}) => ({
  preset: 'ts-jest',
  testEnvironment: 'node',
  testMatch,
  testTimeout,
  maxWorkers: 1,
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }] },
});
