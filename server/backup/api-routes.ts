import fs from 'node:fs';
import path from 'node:path';
import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { idempotently } from '../api/middleware';
import type { Clock } from '../clock';
import type { Db } from '../db/knex';
import { AppError, isAppError, unavailable } from '../errors';
import { parseInput } from '../http/validate';
import { getSettings } from '../settings/service';
import { PgToolMissingError } from './dump';
import { backupTime, type Backups } from './nightly';
import type { BackupFile } from './service';

/** POST /backups: only the request's idempotency key (a retry with it answers the first backup, and makes none). */
const BackUpInput = z.object({ idempotencyKey: z.string().regex(/^[A-Za-z0-9_-]{8,100}$/) }).strict();

/** Whether the second folder holds this backup whole (same name, same size). */
function copiedTo(copyDir: string, b: Pick<BackupFile, 'name' | 'bytes'>): boolean {
  if (!copyDir) return false;
  return fs.statSync(path.join(copyDir, b.name), { throwIfNoEntry: false })?.size === b.bytes;
}

/** A backup as /api/v1 answers it (OpenAPI: Backup); made at the clock's time its name carries. */
export function backupJson(b: Pick<BackupFile, 'name' | 'bytes' | 'at'>, copyDir: string) {
  return { name: b.name, bytes: b.bytes, createdAt: (backupTime(b) ?? b.at).toISOString(), copied: copiedTo(copyDir, b) };
}

/**
 * Why a backup could not be made, as a problem the caller can act on (503: try again once it is
 * fixed), never a stack trace: pg_dump missing (and the package that brings it), a server that
 * does not know its database's address, or pg_dump's own complaint.
 */
export function backupProblem(err: unknown, available: boolean): AppError {
  if (isAppError(err)) return err;
  if (err instanceof PgToolMissingError) return unavailable(`No backup was made: ${err.message}.`, 'backup-tool-missing');
  if (!available) return unavailable('No backup was made: this server does not know its database\'s address (run `store-server backup` from a timer instead).', 'backups-unavailable');
  return unavailable(`No backup was made: ${(err as Error).message}`, 'backup-failed');
}

/**
 * /api/v1/backups (scope backups:admin), on the API's router (server/api/routes.ts): the backups
 * kept, and one now, as the back office's Backups page shows and makes them.
 */
export function backupApiRoutes(router: Router, deps: { db: Db; clock: Clock; backups: Backups; auth: Middleware; scope: Middleware }): void {
  const { auth, scope, backups } = deps;

  router.get('/backups', auth, scope, async (ctx) => {
    const { backupCopyDir } = await getSettings(deps.db);
    ctx.body = {
      dir: backups.dir,
      copyDir: backupCopyDir || null,
      available: backups.available,
      lastError: backups.lastError ? { at: backups.lastError.at.toISOString(), message: backups.lastError.message } : null,
      items: backups.list().map((b) => backupJson(b, backupCopyDir)),
    };
  });

  router.post('/backups', auth, scope, async (ctx) => {
    parseInput(BackUpInput, ctx.request.body);
    // the key's row and the backup in one transaction: a retry waits for the first and gets its answer;
    // pg_dump reads its own snapshot (the uncommitted key row is not in it) and takes no lock this holds
    await idempotently(deps, ctx, async (trx) => {
      const made = await backups.backUp().catch((err: unknown) => {
        throw backupProblem(err, backups.available);
      });
      const { backupCopyDir } = await getSettings(trx);
      const file = backups.list().find((b) => b.file === made.file) ?? { name: path.basename(made.file), bytes: made.bytes, at: deps.clock.now() };
      return { status: 201, body: { ...backupJson(file, backupCopyDir), copyError: made.copyError ?? null, pruned: made.pruned } };
    });
  });
}
