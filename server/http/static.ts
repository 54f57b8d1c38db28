import path from 'node:path';
import type { Context, Next } from 'koa';
import { malformed } from '../errors';
import { readAppFile, staticDir } from '../paths';

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
      const rel = path.normalize(decodePath(ctx.path.slice('/static/'.length)));
      if (rel.startsWith('..') || path.isAbsolute(rel)) return next();
      file = path.join(staticDir, rel);
    }
    if (!file) return next();
    let body = cache.get(file);
    if (!body) {
      try {
        body = readAppFile(file); // inside the packaged binary: its assets
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

/** A percent-decoded path, or 400 when its %-escapes are not valid UTF-8 (`/static/%E0%A4%A`). */
function decodePath(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    throw malformed('The address has a malformed percent-encoding (a % not followed by a valid UTF-8 escape).');
  }
}

/**
 * `Cache-Control: no-store` on every answer that did not choose its own: pages, partials and
 * errors show money and staff, and a shared or back-button cache must not keep them (issue 18).
 * Static files set their public caching above and keep it.
 */
export function noStoreByDefault() {
  return async (ctx: Context, next: Next) => {
    await next(); // outside the error middleware: error pages get it too
    if (!ctx.response.get('Cache-Control')) ctx.set('Cache-Control', 'no-store');
  };
}
