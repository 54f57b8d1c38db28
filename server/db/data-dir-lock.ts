import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/**
 * One server per DATA_DIR. The lock is a Linux abstract-namespace socket named after the
 * directory's real path: the kernel releases it the instant the process dies, even on kill -9,
 * so a crash can never leave it stuck. A pid file beside it only makes the refusal message useful.
 */
export interface DataDirLock {
  release(): Promise<void>;
}

export class DataDirLockedError extends Error {
  constructor(readonly dataDir: string, readonly holderPid: string | undefined) {
    super(
      `Another store server is already running on DATA_DIR ${dataDir}` +
        (holderPid ? ` (pid ${holderPid})` : '') +
        '. Stop it first, or give this one another DATA_DIR.',
    );
    this.name = 'DataDirLockedError';
  }
}

export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  fs.mkdirSync(dataDir, { recursive: true });
  const real = fs.realpathSync(dataDir);
  const name = '\0store-server-' + crypto.createHash('sha256').update(real).digest('hex').slice(0, 40);
  const pidFile = path.join(real, 'server.pid');
  const server = net.createServer((s) => s.end(String(process.pid)));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new DataDirLockedError(real, readPid(pidFile)));
      else reject(err);
    });
    server.listen(name, () => resolve());
  });
  server.unref();
  fs.writeFileSync(pidFile, String(process.pid));
  return {
    async release() {
      try {
        if (readPid(pidFile) === String(process.pid)) fs.unlinkSync(pidFile);
      } catch {
        /* already gone */
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function readPid(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
