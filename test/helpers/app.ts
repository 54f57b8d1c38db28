import { createApp } from '../../server/app';
import type { Clock } from '../../server/clock';
import type { Config } from '../../server/config';
import type { Db } from '../../server/db/knex';
import { listen, type HttpServer } from '../../server/http/server';
import type { Io } from '../../server/realtime/io';
import { seedSettings } from '../../server/settings/service';
import { FakeClock } from './clock';
import { testConfig } from './config';
import { testLog } from './log';

export interface TestApp {
  url: string;
  db: Db;
  clock: FakeClock;
  config: Config;
  http: HttpServer;
  close(): Promise<void>;
}

/** Boots the real app in-process on port 0 over the given database. */
export async function bootApp(db: Db, opts: { clock?: FakeClock; config?: Config } = {}): Promise<TestApp> {
  const clock = opts.clock ?? new FakeClock();
  const config = opts.config ?? testConfig();
  await seedSettings(db, clock as Clock, {});
  const realtime: { io?: Io } = {};
  const app = createApp({ config, db, clock, log: testLog, realtime });
  const http = await listen(app, { port: 0, host: '127.0.0.1', timeoutMs: 5000, log: testLog });
  realtime.io = http.io;
  return { url: `http://127.0.0.1:${http.port}`, db, clock, config, http, close: () => http.close() };
}
