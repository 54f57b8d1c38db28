import fs from 'node:fs';
import { systemClock } from '../clock';
import type { Config } from '../config';
import type { Db } from '../db/knex';
import { isAppError } from '../errors';
import { verifyJournal } from '../journal/verify';
import { age, compareWithLedger, configureLedger, ledgerStatus } from './service';

type Command = (args: string[], config: () => Config) => Promise<number>;

export interface LedgerCliDeps {
  /** runs `fn` on the store's database whether or not the server runs (server/cli.ts) */
  withDatabase(config: Config, fn: (db: Db) => Promise<number>): Promise<number>;
  /** the server's SECRET_KEY, which seals the store secret (server/secret-key.ts) */
  secretKey(config: Config): string;
}

export const LEDGER_USAGE = `  ledger-verify    walk the journal's hash chain and compare its head with the cloud ledger's;
                   exit 1 if the chain is broken, the chains differ or the ledger cannot be asked
  ledger-config --url URL --store-id ID --secret-file FILE
                   set the cloud ledger (audited; the secret is read from the file, never echoed)
  ledger-status    the ledger backlog, last success, last error and next attempt`;

const out = (s: string) => process.stdout.write(s + '\n');
const flag = (args: string[], f: string) => (args.indexOf(f) >= 0 ? args[args.indexOf(f) + 1] : undefined);

/** The ledger's commands of the one command line (server/cli.ts). */
export function ledgerCommands(deps: LedgerCliDeps): Record<string, Command> {
  return {
    async 'ledger-verify'(_args, config) {
      return deps.withDatabase(config(), async (db) => {
        const r = await verifyJournal(db);
        if (!r.ok) {
          out(`journal BROKEN at seq ${r.broken!.seq}: ${r.broken!.problem} (${r.checked} entries verified before it)`);
          return 1;
        }
        out(`journal OK: ${r.checked} entries, chain intact`);
        try {
          const c = await compareWithLedger(db);
          out(`ledger ${c.verdict === 'fork' ? 'DIFFERS' : c.verdict === 'ahead' ? 'AHEAD' : 'OK'}: ${c.message}`);
          return c.verdict === 'fork' ? 1 : 0;
        } catch (err) {
          out(`ledger NOT COMPARED: ${(err as Error).message}`);
          return 1;
        }
      });
    },

    async 'ledger-config'(args, config) {
      const url = flag(args, '--url');
      const storeId = flag(args, '--store-id');
      const secretFile = flag(args, '--secret-file');
      if (url === undefined && storeId === undefined && secretFile === undefined) {
        process.stderr.write('usage: ledger-config --url URL --store-id ID --secret-file FILE (any of them; --url "" turns shipping off)\n');
        return 2;
      }
      let secret: string | undefined;
      if (secretFile !== undefined) {
        try {
          secret = fs.readFileSync(secretFile, 'utf8').trim();
        } catch (err) {
          process.stderr.write(`cannot read the secret file: ${(err as Error).message}\n`);
          return 2;
        }
        if (!secret) {
          process.stderr.write('the secret file is empty\n');
          return 2;
        }
      }
      const cfg = config();
      return deps.withDatabase(cfg, async (db) => {
        try {
          const changed = await configureLedger(db, systemClock, deps.secretKey(cfg), { ledgerUrl: url, ledgerStoreId: storeId, secret }, { via: 'cli' });
          out(changed.length ? `ledger settings changed: ${changed.join(', ')} (a running server uses them from its next attempt)` : 'ledger settings unchanged');
          return 0;
        } catch (err) {
          if (!isAppError(err)) throw err;
          process.stderr.write(`${err.message}\n`);
          return 2;
        }
      });
    },

    async 'ledger-status'(_args, config) {
      return deps.withDatabase(config(), async (db) => {
        const s = await ledgerStatus(db, systemClock);
        const iso = (d: Date | null) => (d ? d.toISOString() : 'never');
        if (!s.enabled) out('shipping: off (no ledger URL and store id set)');
        else out(`shipping: to ${s.url} as store ${s.storeId}${s.secretSet ? '' : ' (NO SECRET SET)'}`);
        out(`backlog: ${s.backlog} entries${s.oldestAgeMs !== null ? `, the oldest ${age(s.oldestAgeMs)} old` : ''} (journal ${s.journalHead}, the ledger holds ${s.ackedThrough})`);
        out(`last success: ${iso(s.lastSuccessAt)}`);
        out(`last error: ${s.lastError ? `${iso(s.lastErrorAt)} ${s.lastError}${s.failing ? '' : ' (it has succeeded since)'}` : 'none'}`);
        out(`next attempt: ${s.nextAttemptAt ? iso(s.nextAttemptAt) : 'when the server next runs'}`);
        if (s.fork) out(`FORK: the ledger holds a different entry at ${s.fork.atSeq}: ${s.fork.error} (shipping stopped)`);
        if (s.restorePending) out('RESTORED: sales wait until the journal was compared with the ledger');
        return s.fork ? 1 : 0;
      });
    },
  };
}
