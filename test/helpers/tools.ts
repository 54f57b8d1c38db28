import fs from 'node:fs';
import path from 'node:path';
import { findPgTool, type PgTool } from '../../server/backup/dump';

/**
 * Tests that need a tool from outside npm (pg_dump and pg_restore from Debian's
 * postgresql-client-15, systemd-analyze from systemd, openssl) skip when it is missing, saying which
 * tool and why on stderr, so `npm test` needs no apt; .ci/run installs them and fails on any skip.
 */
export type OutsideTool = PgTool | 'systemd-analyze' | 'openssl';

export function toolPath(tool: OutsideTool): string | undefined {
  if (tool === 'pg_dump' || tool === 'pg_restore') {
    try {
      return findPgTool(tool);
    } catch {
      return undefined;
    }
  }
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const file = path.join(dir, tool);
    if (fs.existsSync(file)) return file;
  }
  return undefined;
}

const PACKAGE: Record<OutsideTool, string> = { pg_dump: 'postgresql-client-15', pg_restore: 'postgresql-client-15', 'systemd-analyze': 'systemd', openssl: 'openssl' };

/** Skips the running test or hook (with its reason) unless every tool is there. */
export function needTools(ctx: Mocha.Context, ...tools: OutsideTool[]): void {
  const missing = tools.filter((t) => !toolPath(t));
  if (!missing.length) return;
  process.stderr.write(`      SKIPPED, missing tool: ${missing.map((t) => `${t} (apt-get install ${PACKAGE[t]})`).join(', ')}\n`);
  ctx.skip();
}

/** Skips the running test unless this process is root (the cases of a server started as root). */
export function needRoot(ctx: Mocha.Context): void {
  if (process.getuid?.() === 0) return;
  process.stderr.write('      SKIPPED: needs root (the case is a server started as root)\n');
  ctx.skip();
}
