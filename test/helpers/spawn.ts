import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

export interface Spawned {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** Runs the real CLI as a child process: from source through tsx, or the bundle `npm run build` makes. */
export function spawnCli(args: string[], env: Record<string, string | undefined>, opts: { bundle?: string } = {}): Spawned {
  const entry = opts.bundle ? [opts.bundle] : ['--import', 'tsx', path.join(ROOT, 'server/cli.ts')];
  const child = spawn(process.execPath, [...entry, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** Waits for the server's "listening" log line and returns its URL. */
export async function waitForListening(s: Spawned, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const m = /"url":"(http[^"]+)","msg":"store server listening"/.exec(s.output());
    if (m) return m[1].replace('localhost', '127.0.0.1');
    if (s.child.exitCode !== null) throw new Error(`server exited with ${s.child.exitCode}:\n${s.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server did not start in time:\n${s.output()}`);
}

/** Pids of postmasters (not their children) running on a cluster directory. */
export function postmastersFor(pgDir: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (path.basename(argv[0]) === 'postgres' && argv.includes('-D') && argv[argv.indexOf('-D') + 1] === pgDir) pids.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return pids;
}
