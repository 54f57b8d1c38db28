import type { Context, Next } from 'koa';
import type { z } from 'zod';
import { invalid } from '../errors';

/** Parses one input with a zod schema, or a 400 naming each bad field. */
export function parseInput<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const r = schema.safeParse(raw ?? {});
  if (r.success) return r.data;
  const fields = r.error.issues.map((i) => ({ field: i.path.join('.') || 'body', message: i.message }));
  throw invalid(fields.map((f) => `${f.field}: ${f.message}`).join('; '), fields);
}

/** Route middleware: validated body (or query) on ctx.state.input. */
export function validate<S extends z.ZodType>(schema: S, source: 'body' | 'query' = 'body') {
  return async (ctx: Context, next: Next) => {
    ctx.state.input = parseInput(schema, source === 'body' ? ctx.request.body : ctx.query);
    await next();
  };
}

/** A positive integer path parameter, or 404 (an id that cannot exist names nothing). */
export function idParam(ctx: Context, name: string): number {
  const v = ctx.params[name];
  if (!/^\d{1,15}$/.test(v ?? '') || Number(v) < 1) ctx.throw(404);
  return Number(v);
}
