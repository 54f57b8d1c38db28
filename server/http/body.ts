import type { Context, Next } from 'koa';
import { malformed, payloadTooLarge, unsupportedMediaType } from '../errors';

declare module 'koa' {
  interface Request {
    body?: unknown;
  }
}

/**
 * Reads JSON and urlencoded bodies with a size limit. Malformed JSON is a 400 with the parser's
 * message, JSON nested deeper than MAX_JSON_DEPTH a 400 too (found by a scan of the text, so a
 * 100 000-deep body never reaches JSON.parse or any recursive function: issue 18), an oversized
 * body a 413, any other media type a 415. A U+0000 anywhere in the query or the body is a 400
 * too: PostgreSQL can store it in no text or JSON column, so it would fail whatever route it
 * reached.
 */
export function bodyParser(opts: { limit: number }) {
  return async (ctx: Context, next: Next) => {
    if (/%00|\0/.test(ctx.querystring)) throw malformed(NUL_MESSAGE);
    const hasBody = ctx.req.headers['transfer-encoding'] !== undefined || Number(ctx.req.headers['content-length'] ?? 0) > 0;
    if (!hasBody || ['GET', 'HEAD', 'OPTIONS'].includes(ctx.method)) return next();
    const declared = Number(ctx.req.headers['content-length'] ?? 0);
    if (declared > opts.limit) {
      ctx.req.resume();
      throw payloadTooLarge(opts.limit);
    }
    const raw = await readLimited(ctx, opts.limit);
    const type = ctx.request.type;
    if (type === 'application/json' || type.endsWith('+json')) {
      const text = raw.toString('utf8');
      if (nestingOver(text, MAX_JSON_DEPTH)) throw malformed(DEPTH_MESSAGE);
      try {
        ctx.request.body = raw.length ? JSON.parse(text) : {};
      } catch (err) {
        throw malformed(`The request body is not valid JSON: ${(err as Error).message}`);
      }
    } else if (type === 'application/x-www-form-urlencoded') {
      ctx.request.body = parseForm(raw.toString('utf8'));
    } else if (raw.length) {
      throw unsupportedMediaType(type || 'unknown');
    }
    if (hasNul(ctx.request.body)) throw malformed(NUL_MESSAGE);
    return next();
  };
}

const NUL_MESSAGE = 'The request contains a NUL character (U+0000), which no field can hold. Remove it and try again.';

/** Arrays and objects inside one another; no input of ours comes near it. */
export const MAX_JSON_DEPTH = 32;
const DEPTH_MESSAGE = `The JSON body is too deeply nested: at most ${MAX_JSON_DEPTH} levels of arrays and objects are accepted.`;

/**
 * Whether JSON text opens more than `max` arrays or objects inside one another. A plain scan of
 * the characters (brackets inside strings do not count); it does not validate: JSON.parse does.
 */
export function nestingOver(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** Whether a parsed body has U+0000 in any string, key or value (bounded: at most MAX_JSON_DEPTH deep). */
function hasNul(v: unknown): boolean {
  if (typeof v === 'string') return v.includes('\0');
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.some(hasNul);
  return Object.entries(v).some(([k, x]) => k.includes('\0') || hasNul(x));
}

/** Form fields; a repeated name (checkbox groups) becomes an array. */
export function parseForm(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  for (const [k, v] of new URLSearchParams(text)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

async function readLimited(ctx: Context, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      ctx.req.resume();
      throw payloadTooLarge(limit);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
