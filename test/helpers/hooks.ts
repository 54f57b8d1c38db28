import { startTestCluster, stopTestCluster } from './pg';

/** Root hooks: one embedded PostgreSQL for the whole run. */
export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(120_000);
    await startTestCluster();
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await stopTestCluster();
  },
};
