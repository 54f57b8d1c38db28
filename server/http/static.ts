import fs from 'node:fs';
import path from 'node:path';
import type { Context, Next } from 'koa';
import { staticDir } from '../paths';

const TYPES: Record<string, string> = {
  '.js': 'application/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
};

/** Vendor scripts served straight from their npm packages: no CDN, the store may be offline. */
export const vendorFiles: Record<string, string> = {
  '/vendor/htmx.min.js': resolvePackageFile('htmx.org/dist/htmx.min.js'),
};

function resolvePackageFile(spec: string): string {
  try {
    return require.resolve(spec);
  } catch {
    return path.join(staticDir, 'vendor', path.basename(spec)); // the packaged binary ships them there
  }
}

/** Serves /static/* from static/ and the vendor files, with caching; never lists or escapes the folder. */
export function serveStatic() {
  const cache = new Map<string, Buffer>();
  return async (ctx: Context, next: Next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    let file: string | undefined = vendorFiles[ctx.path];
    if (!file && ctx.path.startsWith('/static/')) {
      const rel = path.normalize(decodeURIComponent(ctx.path.slice('/static/'.length)));
      if (rel.startsWith('..') || path.isAbsolute(rel)) return next();
      file = path.join(staticDir, rel);
    }
    if (!file) return next();
    let body = cache.get(file);
    if (!body) {
      try {
        body = fs.readFileSync(file);
      } catch {
        return next();
      }
      cache.set(file, body);
    }
    ctx.type = TYPES[path.extname(file)] ?? 'application/octet-stream';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = body;
  };
}
