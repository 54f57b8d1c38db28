#!/usr/bin/env node
import { loadConfig, configFromArgs, ConfigError, type Config } from './config';
import { createLogger, type Logger } from './logger';
import { version } from './version';
import { lockDataDir } from './db/data-dir-lock';
import { openDatabase, runningClusterUrl } from './db/database';
import { createDb, type Db } from './db/knex';
import { migrateLatest } from './db/migrations';
import { seedSettings } from './settings/service';
import { seedDemo } from './demo/seed';
import { startServer, type RunningServer } from './main';
import { systemClock } from './clock';
import { verifyJournal } from './journal/verify';
import crypto from 'node:crypto';
import { isValidPin } from './auth/pin';
import { resetOwnerPin } from './auth/service';
import { API_SCOPES, createApiToken, parseScopes, type ApiScope } from './api/tokens';
import { resolveSecretKey } from './secret-key';
import { LEDGER_USAGE, ledgerCommands } from './ledger/cli';
import { lastClosedDay, writeExport } from './export/service';
import { BACKUP_USAGE, backupCommands } from './backup/cli';
import { packaged } from './paths';
import { HEAD_OFFICE_USAGE, headOfficeCommand } from './head-office/cli';

/**
 * The one command line. npm scripts and the packaged binary both call it.
 * Exit codes: 0 ok, 1 the command failed, 2 bad configuration or usage.
 */
const USAGE = `usage: store-server <command> [options]

commands:
  start [--demo] [--after-restore]
                   run the store server (--demo seeds the demo café into an empty store;
                   --after-restore: no sale closes before the journal was compared with the cloud ledger)
  migrate          apply database migrations
  seed-demo        seed the demo café into an empty store
  journal-verify   walk the journal's hash chain; names the first broken link, exit 1 if any
  export [--date YYYY-MM-DD]
                   write a business day's export to EXPORT_DIR/YYYY-MM-DD (default: the day before the open one)
  api-token --name N --scopes a,b
                   create an API token (printed once; only its hash is kept)
  reset-owner-pin [--pin NNNN]
                   give the owner a new PIN (random when not given); needs the box itself
  version          print the version
${BACKUP_USAGE}
${LEDGER_USAGE}
${HEAD_OFFICE_USAGE}

options:
  --config FILE    read settings from FILE (KEY=value lines); the binary reads
                   /etc/store-server/config by default; the environment wins over both`;

type Command = (args: string[], config: () => Config) => Promise<number>;

const commands: Record<string, Command> = {
  async version() {
    process.stdout.write(`store-server ${version} (Node ${process.version}${packaged ? ', single executable' : ''})\n`);
    return 0;
  },
  async start(args, config) {
    const cfg = config();
    const log = createLogger(cfg.LOG_LEVEL);
    const demo = args.includes('--demo');
    // the handlers go in before the start: a signal while it runs (or just after "listening")
    // stops the server once it has started, PostgreSQL included, instead of killing the process
    let server: RunningServer | undefined;
    let signals = 0;
    let stopWhenStarted = false;
    const stop = (s: RunningServer) =>
      s.stop().then(
        () => process.exit(0),
        (err) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    const onSignal = (sig: string) => {
      if (++signals > 1) {
        log.warn({ sig }, 'second signal: exiting now');
        process.exit(1);
      }
      log.info({ sig }, 'signal received');
      if (server) void stop(server);
      else stopWhenStarted = true;
    };
    process.on('SIGTERM', () => onSignal('SIGTERM'));
    process.on('SIGINT', () => onSignal('SIGINT'));
    try {
      server = await startServer(cfg, { demo, log, afterRestore: args.includes('--after-restore') });
    } catch (err) {
      process.removeAllListeners('SIGTERM');
      process.removeAllListeners('SIGINT');
      throw err;
    }
    if (stopWhenStarted) void stop(server);
    else if (server.demo) printDemo(server.url, server.demo);
    return new Promise<number>(() => {}); // runs until a signal
  },
  async migrate(_args, config) {
    return withDatabase(config(), async (db) => {
      const applied = await migrateLatest(db);
      process.stdout.write(applied.length ? `applied ${applied.join(', ')}\n` : 'database is up to date\n');
      return 0;
    });
  },
  async 'journal-verify'(_args, config) {
    return withDatabase(config(), async (db) => {
      const r = await verifyJournal(db);
      if (r.ok) {
        process.stdout.write(`journal OK: ${r.checked} entries, chain intact\n`);
        return 0;
      }
      process.stdout.write(`journal BROKEN at seq ${r.broken!.seq}: ${r.broken!.problem} (${r.checked} entries verified before it)\n`);
      return 1;
    });
  },
  async 'api-token'(args, config) {
    const flag = (f: string) => (args.indexOf(f) >= 0 ? args[args.indexOf(f) + 1] : undefined);
    const name = flag('--name');
    const scopes = flag('--scopes');
    if (!name || !scopes) {
      process.stderr.write(`usage: api-token --name N --scopes ${API_SCOPES.join(',')}\n`);
      return 2;
    }
    let parsed: ApiScope[];
    try {
      parsed = parseScopes(scopes.split(',').map((s) => s.trim()).filter(Boolean));
    } catch (err) {
      process.stderr.write(`${(err as Error).message}\n`);
      return 2;
    }
    return withDatabase(config(), async (db) => {
      const { token, record } = await createApiToken(db, systemClock, { name, scopes: parsed });
      process.stdout.write(`API token "${record.name}" (${record.scopes.join(', ')}); shown once, store it now:\n${token}\n`);
      return 0;
    });
  },
  async 'reset-owner-pin'(args, config) {
    const i = args.indexOf('--pin');
    const pin = i >= 0 ? args[i + 1] ?? '' : String(crypto.randomInt(0, 1_000_000)).padStart(6, '0');
    if (!isValidPin(pin)) {
      process.stderr.write('A PIN is 4 to 8 digits.\n');
      return 2;
    }
    return withDatabase(config(), async (db) => {
      const owner = await resetOwnerPin({ db, clock: systemClock }, pin);
      process.stdout.write(`New PIN for ${owner.name} (owner): ${pin}\n`);
      return 0;
    });
  },
  async 'seed-demo'(_args, config) {
    const cfg = config();
    return withDatabase(cfg, async (db) => {
      await migrateLatest(db);
      await seedSettings(db, systemClock, { storeName: cfg.STORE_NAME, timezone: cfg.TIMEZONE, currency: cfg.CURRENCY });
      const info = await seedDemo(db, systemClock);
      if (info.seeded) printDemo(undefined, info);
      else process.stdout.write('the store already has products: nothing seeded\n');
      return 0;
    });
  },
  ...backupCommands(),
  async export(args, config) {
    const i = args.indexOf('--date');
    const date = i >= 0 ? args[i + 1] : undefined;
    if (i >= 0 && !/^\d{4}-\d{2}-\d{2}$/.test(date ?? '')) {
      process.stderr.write('usage: export [--date YYYY-MM-DD]\n');
      return 2;
    }
    const cfg = config();
    return withDatabase(cfg, async (db) => {
      const day = date ?? (await lastClosedDay(db, systemClock));
      const { dir, manifest } = await writeExport({ db, clock: systemClock, exportDir: cfg.exportDir }, day, 'cli');
      process.stdout.write(`export of ${day} written to ${dir} (${manifest.files.length + 1} files)\n`);
      return 0;
    });
  },
  ...ledgerCommands({ withDatabase: (c, fn) => withDatabase(c, fn), secretKey: resolveSecretKey }),
  ledger: headOfficeCommand, // the head office (server/head-office/): `ledger serve`, `ledger add-store` …
};

function printDemo(url: string | undefined, demo: { seeded: boolean; pairingCode?: string; staff: Array<{ name: string; role: string; pin: string }> }) {
  const lines = [
    '',
    demo.seeded ? 'Demo store seeded.' : 'Demo store (already seeded).',
    url ? `Open ${url} in a browser.` : '',
    demo.pairingCode ? `One-time pairing code for this browser (valid 10 minutes): ${demo.pairingCode}` : '',
    'Demo staff PINs:',
    ...demo.staff.map((s) => `  ${s.pin}  ${s.name} — ${s.role}`),
    '',
  ];
  process.stdout.write(lines.filter((l) => l !== undefined).join('\n') + '\n');
}

/**
 * Runs `fn` against the store's database whether or not the server is running: DATABASE_URL,
 * else the embedded cluster a running server holds, else the cluster started just for this.
 */
async function withDatabase(config: Config, fn: (db: Db) => Promise<number>): Promise<number> {
  const log: Logger = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
  const attached = config.DATABASE_URL ?? runningClusterUrl(config, log);
  if (attached) {
    const db = createDb(attached, { poolMax: 2 });
    try {
      return await fn(db);
    } finally {
      await db.destroy();
    }
  }
  const lock = await lockDataDir(config.dataDir);
  try {
    const database = await openDatabase(config, log);
    try {
      return await fn(database.db);
    } finally {
      await database.close();
    }
  } finally {
    await lock.release();
  }
}

export async function main(argv: string[]): Promise<number> {
  const given = configFromArgs(argv, process.env, packaged); // --config FILE, or /etc/store-server/config
  const [name, ...args] = given.args;
  const command = name ? commands[name] : undefined;
  if (!command) {
    process.stderr.write((name && name !== 'help' && name !== '--help' ? `unknown command: ${name}\n` : '') + USAGE + '\n');
    return name === 'help' || name === '--help' ? 0 : 2;
  }
  try {
    return await command(args, () => loadConfig(given.env));
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const p of err.problems) process.stderr.write(p + '\n');
      return 2;
    }
    process.stderr.write(`store-server ${name}: ${(err as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
