import fs from 'node:fs';
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { audit } from '../audit/service';
import { requires } from '../auth/middleware';
import type { Clock } from '../clock';
import type { Db } from '../db/knex';
import { invalid } from '../errors';
import { formView, render, toast, type FormView } from '../http/render';
import { parseInput } from '../http/validate';
import { BusinessSettings } from '../settings/schema';
import { getSettings } from '../settings/service';
import type { Backups } from './nightly';

export interface BackupRouteDeps {
  db: Db;
  clock: Clock;
  backups: Backups;
}

const BackupForm = z.object({
  backupRetention: z.coerce.number(),
  backupCopyDir: z.string().default(''),
});

/** Whether a folder exists and this server may write into it (a second copy needs both). */
function writableFolder(dir: string): boolean {
  try {
    if (!fs.statSync(dir).isDirectory()) return false;
    fs.accessSync(dir, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The back office's Backups page (owner: settings:edit): the backups kept, "Back up now", how
 * many to keep and the second folder each is copied to; it warns while no second folder is set.
 */
export function backupRoutes(deps: BackupRouteDeps): Router {
  const router = new Router();
  const need = requires('settings:edit', deps);
  const page = async (extra: object = {}) => {
    const settings = await getSettings(deps.db);
    const fmt = new Intl.DateTimeFormat('en-GB', { timeZone: settings.timezone, dateStyle: 'medium', timeStyle: 'short' });
    const b = deps.backups;
    return {
      settings,
      form: { backupRetention: settings.backupRetention, backupCopyDir: settings.backupCopyDir },
      backups: b.list().map((f) => ({ name: f.name, size: `${Math.max(1, Math.round(f.bytes / 1024))} KiB`, when: fmt.format(f.at) })),
      dir: b.dir,
      available: b.available,
      lastError: b.lastError ? { ...b.lastError, when: fmt.format(b.lastError.at) } : undefined,
      path: '/backoffice/backups', // the menu marks it current
      ...extra,
    };
  };
  const form: FormView = {
    page: 'backoffice/backups.html',
    data: () => page(),
    messages: {
      backupRetention: 'A whole number of backups, from 1 to 365.',
      backupCopyDir: 'A folder path starting with /, that exists and this server may write to (is the USB stick mounted?), or empty.',
    },
  };

  router.get('/backoffice/backups', need, async (ctx) => render(ctx, 'backoffice/backups.html', null, await page()));

  router.post('/backoffice/backups/settings', need, formView(form), async (ctx) => {
    const input = parseInput(BackupForm, ctx.request.body);
    const next = BusinessSettings.pick({ backupRetention: true, backupCopyDir: true }).safeParse(input);
    if (!next.success) throw invalid('Check the marked fields.', next.error.issues.map((i) => ({ field: String(i.path[0]), message: i.message })));
    if (next.data.backupCopyDir && !writableFolder(next.data.backupCopyDir)) {
      throw invalid('Check the marked fields.', [{ field: 'backupCopyDir', message: 'not a folder this server can write to' }]);
    }
    await saveSettings(deps, ctx, next.data);
    toast(ctx, 'Backup settings saved.');
    render(ctx, 'backoffice/backups.html', null, await page());
  });

  router.post('/backoffice/backups', need, async (ctx) => {
    try {
      const r = await deps.backups.backUp();
      toast(ctx, r.copyError ? 'Backup made, but its second copy failed: see the warning.' : 'Backup made.');
    } catch {
      // said on the page (lastError), which the answer shows
    }
    render(ctx, 'backoffice/backups.html', null, await page());
  });

  return router;
}

async function saveSettings(deps: BackupRouteDeps, ctx: Context, next: { backupRetention: number; backupCopyDir: string }): Promise<void> {
  const a = ctx.state.auth;
  await deps.db.transaction(async (trx) => {
    const current = await getSettings(trx);
    const changed = (Object.keys(next) as Array<keyof typeof next>).filter((k) => next[k] !== current[k]);
    for (const key of changed) {
      await trx('settings').insert({ key, value: JSON.stringify(next[key]), updated_at: deps.clock.now() }).onConflict('key').merge();
    }
    if (changed.length) {
      await audit(trx, deps.clock, {
        action: 'settings_changed', staffId: a.staff!.id, approvedBy: a.approver?.id, terminalId: a.terminal!.id,
        details: Object.fromEntries(changed.map((k) => [k, { from: current[k], to: next[k] }])),
      });
    }
  });
}
