// One mocha run: unit tests beside the code, integration / e2e / smoke tests under test/.
module.exports = {
  spec: ['server/**/*.test.ts', 'drivers/**/*.test.ts', 'test/**/*.test.ts'],
  'node-option': ['import=tsx'],
  require: ['test/helpers/hooks.ts'],
  timeout: 60_000,
  slow: 2_000,
  reporter: 'spec',
  exit: true,
};
