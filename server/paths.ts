import fs from 'node:fs';
import path from 'node:path';
import sea from 'node:sea';
import type { ILoader, LoaderSource } from 'nunjucks';

/**
 * Where views and static files live. From source (and the dist/store-server.cjs bundle) that is
 * the repository root, or STORE_ASSET_ROOT. Inside the packaged binary (a Node single-executable
 * application, scripts/build.ts) they are assets of the binary itself, keyed by their path
 * relative to the repository ("views/layouts/base.html"); `rootDir` is then the binary's folder,
 * only a name under which those keys are read.
 */
export const packaged: boolean = typeof sea.isSea === 'function' && sea.isSea();
export const rootDir: string = packaged ? path.dirname(process.execPath) : process.env.STORE_ASSET_ROOT ?? path.resolve(__dirname, '..');
export const viewsDir = path.join(rootDir, 'views');
export const staticDir = path.join(rootDir, 'static');

/** The asset key of a file under rootDir, or undefined when it lies outside. */
function assetKey(file: string): string | undefined {
  const rel = path.relative(rootDir, file);
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep).join('/');
}

/** A view or static file's bytes: from the binary's assets when packaged, else from disk. Throws ENOENT when absent. */
export function readAppFile(file: string): Buffer {
  if (!packaged) return fs.readFileSync(file);
  const key = assetKey(file);
  try {
    if (key) return Buffer.from(sea.getAsset(key));
  } catch {
    // not an asset: answered as a missing file below
  }
  throw Object.assign(new Error(`ENOENT: no such asset in the binary: ${key ?? file}`), { code: 'ENOENT' });
}

/** nunjucks' loader for the templates inside the binary (its FileSystemLoader reads the disk). */
export class AssetLoader implements ILoader {
  constructor(private readonly dir: string) {}

  getSource(name: string): LoaderSource {
    const file = path.resolve(this.dir, name);
    let src: string;
    try {
      src = readAppFile(file).toString('utf8');
    } catch {
      return null as unknown as LoaderSource; // nunjucks' "not here": it tries the next loader, then says which template is missing
    }
    return { src, path: file, noCache: false };
  }
}
