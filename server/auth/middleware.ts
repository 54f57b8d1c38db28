import crypto from 'node:crypto';
import type { Context, Middleware, Next } from 'koa';
import type { Clock } from '../clock';
import type { Db } from '../db/knex';
import type { Logger } from '../logger';
import { AppError, forbidden, tooManyRequests } from '../errors';
import { audit } from '../audit/service';
import { isHtmx } from '../http/render';
import { settingsFor } from '../settings/service';
import { CSRF_COOKIE, DEVICE_COOKIE, SESSION_COOKIE, csrfToken } from './cookies';
import { KITCHEN_DEVICE_PERMISSIONS, ROLES, roleCan, type Permission } from './permissions';
import { checkOverridePin } from './pin-check';
import { DEVICE_MAX_AGE_MS, decodeDevice, deviceAndSession, deviceDueForSighting, deviceExpired, noteTerminalSeen, endSession, type Staff, type Terminal } from './service';
import { touchSession } from './activity';
import type { RateLimiter } from './rate-limit';

export interface Auth {
  terminal?: Terminal;
  sessionId?: string;
  staff?: Staff;
  /** the manager whose PIN authorised this one request */
  approver?: Staff;
  /** a session ended by the idle timer on this request */
  idleLocked?: boolean;
  /** a session ended on this request by the store's absolute session lifetime */
  sessionExpired?: boolean;
}

declare module 'koa' {
  interface DefaultState {
    auth: Auth;
  }
}

export const cookieOpts = (ctx: Context, maxAgeMs?: number) => ({
  httpOnly: true,
  sameSite: 'strict' as const,
  signed: true,
  secure: ctx.secure,
  overwrite: true,
  path: '/',
  ...(maxAgeMs ? { maxAge: maxAgeMs } : {}),
});
export const DEVICE_MAX_AGE = DEVICE_MAX_AGE_MS;

/**
 * Resolves the terminal (device cookie) and the staff session; applies the idle lock and the
 * absolute session lifetime. A terminal's cookie is renewed on its first request of a day, and a
 * terminal unseen for DEVICE_MAX_AGE no longer counts as paired.
 */
export function authenticate(deps: { db: Db; clock: Clock; log?: Logger }): Middleware {
  return async (ctx, next) => {
    const auth: Auth = {};
    ctx.state.auth = auth;
    if (ctx.path.startsWith('/api/') || ctx.path === '/healthz') return next();
    const deviceCookie = ctx.cookies.get(DEVICE_COOKIE, { signed: true });
    const { terminal, session } = await deviceAndSession(deps.db, decodeDevice(deviceCookie), ctx.cookies.get(SESSION_COOKIE, { signed: true }));
    const now = deps.clock.now();
    if (terminal && !deviceExpired(terminal, now)) {
      auth.terminal = terminal;
      if (deviceDueForSighting(terminal, now)) {
        await noteTerminalSeen(deps.db, terminal.id, now);
        ctx.cookies.set(DEVICE_COOKIE, deviceCookie, cookieOpts(ctx, DEVICE_MAX_AGE));
      }
      if (session) {
        const settings = await settingsFor(ctx.state, deps.db);
        const idle = now.getTime() - session.last_active_at.getTime() > settings.idleLockSeconds * 1000;
        const tooOld = now.getTime() - session.created_at.getTime() > settings.sessionMaxHours * 3600_000;
        // a page's own poll or refresh (X-Background: 1, static/js/ui.js) is nobody's tap: it neither
        // keeps the session awake nor ends it; the next tap finds the lock and says so
        const background = ctx.get('X-Background') === '1';
        if (idle || tooOld) {
          if (!background) {
            await endSession(deps, session.id);
            auth.idleLocked = idle;
            auth.sessionExpired = !idle;
          }
        } else {
          auth.sessionId = session.id;
          auth.staff = session.staff;
          if (!background && now.getTime() - session.last_active_at.getTime() > 2000) await touchSession(deps.db, session.id, now);
        }
      }
    }
    ctx.state.view.auth = auth;
    return next();
  };
}

/**
 * CSRF for browser requests: every mutating request must carry the token (X-CSRF-Token header,
 * set on <body> for htmx, or a _csrf form field) derived from this browser's csrf cookie.
 * The JSON API is token-authenticated and exempt.
 */
export function csrf(secretKey: string): Middleware {
  return async (ctx, next) => {
    if (ctx.path.startsWith('/api/')) return next();
    let cookie = ctx.cookies.get(CSRF_COOKIE, { signed: true });
    if (!cookie) {
      cookie = crypto.randomBytes(18).toString('base64url');
      ctx.cookies.set(CSRF_COOKIE, cookie, cookieOpts(ctx));
      if (!['GET', 'HEAD', 'OPTIONS'].includes(ctx.method)) throw new AppError(403, 'csrf', 'The request has no CSRF token. Reload the page and try again.');
    }
    const token = csrfToken(cookie, secretKey);
    ctx.state.view.csrfToken = token;
    if (!['GET', 'HEAD', 'OPTIONS'].includes(ctx.method)) {
      const body = ctx.request.body as Record<string, unknown> | undefined;
      const sent = ctx.get('X-CSRF-Token') || (typeof body?._csrf === 'string' ? body._csrf : '');
      const a = Buffer.from(sent);
      const b = Buffer.from(token);
      if (a.length !== b.length || !crypto.timingSafeEqual(a, b)) {
        throw new AppError(403, 'csrf', 'The request has no valid CSRF token. Reload the page and try again.');
      }
      // the approval page sends a refused page (a GET) again as a form, so the manager's PIN is
      // in no URL; the page's route answers it like the GET it is (views/auth/approval.html)
      if (ctx.method === 'POST' && body?._approve === 'GET') ctx.method = 'GET';
    }
    return next();
  };
}

/** Routes that answer anyone: setup, pairing, health. */
export type Access = Permission | 'public' | 'device';

export type Guard = Middleware & { access: Access };

/** What a route needs. Every route declares one; the tests enumerate them. */
export function requires(access: Access, deps?: { db: Db; clock: Clock }): Guard {
  const guard = (async (ctx: Context, next: Next) => {
    if (await allowed(ctx, access, deps)) return next();
  }) as Guard;
  guard.access = access;
  return guard;
}

/**
 * The check behind `requires`, also for rules that depend on the input (a discount over the
 * threshold). True to go on; false when the answer (a redirect) is already set; throws otherwise.
 */
export async function allowed(ctx: Context, access: Access, deps?: { db: Db; clock: Clock }): Promise<boolean> {
  if (access === 'public') return true;
  const auth = ctx.state.auth;
  if (!auth.terminal) return refuseUnpaired(ctx);
  if (access === 'device') return true;
  if (auth.terminal.kind === 'kitchen' && KITCHEN_DEVICE_PERMISSIONS.has(access)) return true;
  if (auth.terminal.kind === 'kitchen' && !auth.staff) throw forbidden('A kitchen screen cannot do that.');
  if (!auth.staff) return refuseNoStaff(ctx, auth.idleLocked, auth.sessionExpired);
  if (roleCan(auth.staff.role, access)) return true;
  if (auth.approver && roleCan(auth.approver.role, access)) {
    // one PIN may approve several steps of one request; each is on the record
    await auditOverride(ctx, access, deps!);
    return true;
  }
  await override(ctx, access, deps!);
  return true;
}

/**
 * Manager override: a manager's PIN sent with this one request (override_pin field or
 * X-Override-PIN header) authorises it; otherwise 403 override-required, which the terminal
 * shows as a PIN dialog that re-sends the same request.
 */
async function override(ctx: Context, permission: Permission, deps: { db: Db; clock: Clock }) {
  const auth = ctx.state.auth;
  const body = ctx.request.body as Record<string, unknown> | undefined;
  const pin = ctx.get('X-Override-PIN') || (typeof body?.override_pin === 'string' ? body.override_pin : '');
  if (!pin) {
    const who = ROLES.find((r) => roleCan(r, permission)) === 'owner' ? "an owner's" : "a manager's";
    throw new AppError(403, 'override-required', `${auth.staff!.name} may not do this alone: ${who} PIN is needed.`, {
      permission,
      method: ctx.method,
      action: ctx.path,
      resend: formFields(body),
    });
  }
  auth.approver = await checkOverridePin(deps, auth.terminal!.id, auth.staff!, pin, permission);
  await auditOverride(ctx, permission, deps);
}

async function auditOverride(ctx: Context, permission: Permission, deps: { db: Db; clock: Clock }) {
  const auth = ctx.state.auth;
  await audit(deps.db, deps.clock, { action: 'override', staffId: auth.staff!.id, approvedBy: auth.approver!.id, terminalId: auth.terminal!.id, details: { permission, path: ctx.path } });
}

/** A form's fields to send again with a manager's PIN: all but the token, the PIN and the approval marker. */
export function formFields(body: Record<string, unknown> | undefined): Array<{ name: string; value: string }> {
  const out: Array<{ name: string; value: string }> = [];
  for (const [name, v] of Object.entries(body ?? {})) {
    if (name === '_csrf' || name === 'override_pin' || name === '_approve') continue;
    for (const value of Array.isArray(v) ? v : [v]) if (typeof value === 'string') out.push({ name, value });
  }
  return out;
}

function refuseUnpaired(ctx: Context): false {
  if (ctx.method === 'GET' && !isHtmx(ctx) && ctx.accepts('html') === 'html') {
    ctx.redirect('/pair');
    return false;
  }
  if (isHtmx(ctx)) ctx.set('HX-Redirect', '/pair');
  throw new AppError(401, 'unpaired', 'This browser is not a terminal of this store. Pair it first.');
}

function refuseNoStaff(ctx: Context, idle?: boolean, expired?: boolean): false {
  const to = idle ? '/login?locked=1' : expired ? '/login?expired=1' : '/login';
  if (ctx.method === 'GET' && !isHtmx(ctx) && ctx.accepts('html') === 'html') {
    ctx.redirect(to);
    return false;
  }
  if (isHtmx(ctx)) ctx.set('HX-Redirect', to);
  const message = idle ? 'The terminal locked itself: enter your PIN.' : expired ? 'Your login has reached the store\'s session limit: enter your PIN again.' : 'Enter your PIN first.';
  throw new AppError(401, 'unauthenticated', message);
}

/** Counts one attempt against `limiter` under `key`, or 429. */
export function limit(limiter: RateLimiter, key: (ctx: Context) => string): Middleware {
  return async (ctx, next) => {
    const k = key(ctx);
    if (!limiter.take(k)) throw tooManyRequests(limiter.retryAfterSeconds(k));
    return next();
  };
}

/** Security headers on every answer; the CSP allows no inline script or style and no eval. */
export function securityHeaders(): Middleware {
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
  return async (ctx, next) => {
    ctx.set('Content-Security-Policy', csp);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    ctx.set('Cross-Origin-Resource-Policy', 'same-origin');
    ctx.set('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()');
    if (ctx.secure) ctx.set('Strict-Transport-Security', 'max-age=31536000');
    await next();
  };
}
