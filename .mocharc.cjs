// One mocha run: unit tests beside the code, integration / e2e / smoke tests under test/.
// `npx mocha path/to/one.test.ts` runs just the files named (mocha would otherwise add them to the spec).
const named = process.argv.slice(2).some((a) => /\.test\.ts$/.test(a));
module.exports = {
  spec: named ? [] : ['server/**/*.test.ts', 'drivers/**/*.test.ts', 'test/**/*.test.ts'],
  'node-option': ['import=tsx'],
  require: ['test/helpers/hooks.ts'],
  timeout: 60_000,
  slow: 2_000,
  reporter: 'spec',
  exit: true,
};
