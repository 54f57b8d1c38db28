import { createApp } from '../../server/app';
import type { Clock } from '../../server/clock';
import type { Config } from '../../server/config';
import type { Db } from '../../server/db/knex';
import { listen, type HttpServer } from '../../server/http/server';
import type { Io } from '../../server/realtime/io';
import { seedSettings } from '../../server/settings/service';
import { FakeClock } from './clock';
import { socketAuthorizer } from '../../server/auth/socket-auth';
import { createEventBus, type EventBus } from '../../server/events';
import { OutboxWorker } from '../../server/outbox/worker';
import { WEBHOOK_TOPIC } from '../../server/webhooks/service';
import { webhookTopic } from '../../server/webhooks/worker';
import { PRINT_TOPIC, PrinterPool, printTopic } from '../../server/printing/service';
import type { App } from '../../server/app';
import { testConfig } from './config';
import { testLog } from './log';

export interface TestApp {
  url: string;
  db: Db;
  clock: FakeClock;
  config: Config;
  http: HttpServer;
  app: App;
  /** the app's event bus: publish on it as a service would, or subscribe to hear what services tell */
  events: EventBus;
  /** the app's outbox worker, delivering webhooks */
  outbox: OutboxWorker;
  /** the printers' drivers the print queue uses (short timeouts: see bootApp's `printing`) */
  printers?: PrinterPool;
  close(): Promise<void>;
}

/** Boots the real app in-process on port 0 over the given database. */
export async function bootApp(db: Db, opts: { clock?: FakeClock; config?: Config; webhookTimeoutMs?: number; printing?: { ackTimeoutMs?: number; connectTimeoutMs?: number; statusTimeoutMs?: number } } = {}): Promise<TestApp> {
  const clock = opts.clock ?? new FakeClock();
  const config = opts.config ?? testConfig();
  await seedSettings(db, clock as Clock, {});
  const realtime: { io?: Io } = {};
  const secretKey = config.SECRET_KEY!;
  // wired as main.ts wires them
  const events = createEventBus(testLog);
  const printers = new PrinterPool({ dataDir: config.dataDir, ackTimeoutMs: 2000, connectTimeoutMs: 1000, statusTimeoutMs: 500, ...opts.printing });
  const outbox = new OutboxWorker({
    db, clock, log: testLog, pollMs: 100,
    topics: { [WEBHOOK_TOPIC]: webhookTopic({ db, timeoutMs: opts.webhookTimeoutMs ?? 2000 }), [PRINT_TOPIC]: printTopic({ db, clock, log: testLog, events, pool: printers }) },
  });
  events.subscribe('outbox:written', () => outbox.wake());
  events.subscribe('ticket:created', () => outbox.wake()); // a send's chits are print jobs, written with its tickets (server/printing/)
  outbox.start();
  const app = createApp({ config, db, clock, log: testLog, realtime, secretKey, events, printers });
  const http = await listen(app, { port: 0, host: '127.0.0.1', timeoutMs: 5000, log: testLog, authorize: socketAuthorizer(db, secretKey) });
  realtime.io = http.io;
  return {
    url: `http://127.0.0.1:${http.port}`, db, clock, config, http, app, events, outbox, printers,
    close: async () => {
      await outbox.stop();
      await printers.close();
      await http.close();
    },
  };
}
