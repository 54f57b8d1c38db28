import fs from 'node:fs';
import { systemClock } from '../clock';
import type { Config } from '../config';
import type { Db } from '../db/knex';
import { createLogger, type Logger } from '../logger';
import { resolveSecretKey } from '../secret-key';
import { withLedgerDatabase } from './database';
import { startHeadOffice, type RunningHeadOffice } from './main';
import { migrateHeadOffice } from './migrations';
import { addStore, RegistryError, revokeStore, setOperatorPassword } from './registry';
import { newStoreSecret } from './secrets';

type Command = (args: string[], config: () => Config) => Promise<number>;

export const HEAD_OFFICE_USAGE = `  ledger serve     run the head office: the cloud ledger the stores ship to (its own DATA_DIR
                   and database: PORT, HOST, DATA_DIR, DATABASE_URL, SECRET_KEY as for the store)
  ledger add-store --id ID
                   register a store; its secret is printed once, as the last word
  ledger revoke-store --id ID
                   refuse the store's batches from now on (what the ledger holds stays)
  ledger set-password [--name NAME] [--password-file FILE]
                   set a status-page login (default name admin; a random password, printed once,
                   unless read from the file)`;

const out = (s: string) => process.stdout.write(s + '\n');
const flag = (args: string[], f: string) => (args.indexOf(f) >= 0 ? args[args.indexOf(f) + 1] : undefined);
const quietLog = (config: Config): Logger => createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);

/** Runs `fn` on the migrated head-office database; a RegistryError is a usage problem (exit 2). */
async function onLedger(config: Config, fn: (db: Db) => Promise<number>): Promise<number> {
  try {
    return await withLedgerDatabase(config, quietLog(config), async (db) => {
      await migrateHeadOffice(db);
      return fn(db);
    });
  } catch (err) {
    if (!(err instanceof RegistryError)) throw err;
    process.stderr.write(err.message + '\n');
    return 2;
  }
}

const subcommands: Record<string, Command> = {
  async serve(_args, config) {
    const cfg = config();
    const log = createLogger(cfg.LOG_LEVEL);
    let running: RunningHeadOffice | undefined;
    let signals = 0;
    let stopWhenStarted = false;
    const stop = (s: RunningHeadOffice) =>
      s.stop().then(
        () => process.exit(0),
        (err) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    const onSignal = (sig: string) => {
      if (++signals > 1) process.exit(1);
      log.info({ sig }, 'signal received');
      if (running) void stop(running);
      else stopWhenStarted = true;
    };
    process.on('SIGTERM', () => onSignal('SIGTERM'));
    process.on('SIGINT', () => onSignal('SIGINT'));
    try {
      running = await startHeadOffice(cfg, { log });
    } catch (err) {
      process.removeAllListeners('SIGTERM');
      process.removeAllListeners('SIGINT');
      throw err;
    }
    if (stopWhenStarted) void stop(running);
    return new Promise<number>(() => {}); // runs until a signal
  },

  async 'add-store'(args, config) {
    const id = flag(args, '--id');
    if (!id) {
      process.stderr.write('usage: ledger add-store --id ID\n');
      return 2;
    }
    const cfg = config();
    return onLedger(cfg, async (db) => {
      const { secret, reactivated } = await addStore(db, systemClock, resolveSecretKey(cfg), id);
      out(`Store ${id} ${reactivated ? 'may ship again with a new secret' : 'registered'}. Set this secret on the store's Ledger page (it is shown once, never again):`);
      out(secret);
      return 0;
    });
  },

  async 'revoke-store'(args, config) {
    const id = flag(args, '--id');
    if (!id) {
      process.stderr.write('usage: ledger revoke-store --id ID\n');
      return 2;
    }
    return onLedger(config(), async (db) => {
      await revokeStore(db, systemClock, id);
      out(`Store ${id} revoked: its batches are refused from now on (401). What the ledger holds of it stays; \`ledger add-store --id ${id}\` gives it a new secret.`);
      return 0;
    });
  },

  async 'set-password'(args, config) {
    const name = flag(args, '--name') ?? 'admin';
    const file = flag(args, '--password-file');
    let password = newStoreSecret().slice(0, 24);
    if (file !== undefined) {
      try {
        password = fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
      } catch (err) {
        process.stderr.write(`cannot read the password file: ${(err as Error).message}\n`);
        return 2;
      }
    }
    return onLedger(config(), async (db) => {
      await setOperatorPassword(db, systemClock, name, password);
      if (file !== undefined) out(`Status page password set for ${name}; sessions signed in with the old one have ended.`);
      else out(`Status page password for ${name} (shown once):\n${password}`);
      return 0;
    });
  },
};

/** `store-server ledger <subcommand>`, dispatched from server/cli.ts. */
export const headOfficeCommand: Command = async (args, config) => {
  const [name, ...rest] = args;
  const sub = name ? subcommands[name] : undefined;
  if (!sub) {
    process.stderr.write((name ? `unknown ledger command: ${name}\n` : '') + `usage:\n${HEAD_OFFICE_USAGE}\n`);
    return 2;
  }
  return sub(rest, config);
};
