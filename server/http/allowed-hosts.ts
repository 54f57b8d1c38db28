import type { Context, Next } from 'koa';
import type { Db } from '../db/knex';
import { hostNotAllowed } from '../errors';
import { normalizeHost } from '../settings/schema';
import { settingsFor } from '../settings/service';

/**
 * The allowedHosts setting (issue 18): when it lists names, a request whose Host header names
 * another is refused with 421, so a web page whose DNS name was rebound to the store's address
 * cannot talk to it (a first-run setup page or a pairing form answers without cookies). Empty, the
 * default, accepts any Host: a store's box is reached by its IP address, and the status page says so.
 *
 * Loopback names (localhost, 127.0.0.1, ::1) are always accepted: a rebinding page sends its own
 * name, never these, and they leave a way in on the box itself when the list was set wrong.
 * /healthz is exempt: a monitor probes it by whatever address it was given, and it shows nothing
 * of the store.
 */
export function allowedHosts(db: Db) {
  return async (ctx: Context, next: Next) => {
    if (ctx.path === '/healthz') return next();
    const { allowedHosts: list } = await settingsFor(ctx.state, db);
    if (!hostAllowed(ctx.host, list)) {
      throw hostNotAllowed(`This server does not answer to the name "${hostName(ctx.host)}". Use one of the names in the back office's Allowed hosts setting.`);
    }
    return next();
  };
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1']);

/** Whether a Host header value (with or without a port) passes the list; an empty list passes any. */
export function hostAllowed(hostHeader: string | undefined, list: readonly string[]): boolean {
  if (!list.length) return true;
  const name = hostName(hostHeader ?? '');
  return LOOPBACK.has(name) || list.includes(name);
}

/** The name of a Host header value as the setting lists names: without the port, normalised. */
export function hostName(hostHeader: string): string {
  const h = hostHeader.trim();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return normalizeHost(end < 0 ? h : h.slice(0, end + 1));
  }
  const colon = h.indexOf(':');
  // one colon: name:port; more than one: an IPv6 address without brackets (not valid in a Host header, but not ours to fix)
  return normalizeHost(colon >= 0 && h.indexOf(':', colon + 1) < 0 ? h.slice(0, colon) : h);
}
