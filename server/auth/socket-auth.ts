import type { Db } from '../db/knex';
import { hostAllowed, hostName } from '../http/allowed-hosts';
import { hostNotAllowed } from '../errors';
import type { SocketAuthorizer } from '../realtime/io';
import { getSettings } from '../settings/service';
import { DEVICE_COOKIE, SESSION_COOKIE, readSignedCookie } from './cookies';
import { decodeDevice, terminalForDevice } from './service';

/**
 * socket.io handshakes are authenticated with the same signed device cookie as HTTP, and pass
 * the same Host allow-list. The session cookie names the staff session; whether it is still open
 * is asked of the database at each room join (a session may end after the handshake).
 */
export function socketAuthorizer(db: Db, secretKey: string): SocketAuthorizer {
  return async (req) => {
    if (!hostAllowed(req.headers.host, (await getSettings(db)).allowedHosts)) {
      throw hostNotAllowed(`This server does not answer to the name "${hostName(req.headers.host ?? '')}".`);
    }
    const t = await terminalForDevice(db, decodeDevice(readSignedCookie(req, DEVICE_COOKIE, secretKey)));
    if (!t) return undefined;
    const sessionId = readSignedCookie(req, SESSION_COOKIE, secretKey);
    return { terminalId: t.id, kind: t.kind, staffSignedIn: () => staffSignedIn(db, t.id, sessionId) };
  };
}

/** Whether `sessionId` is an open session on terminal `terminalId` of an active staff member, on a terminal not revoked. */
async function staffSignedIn(db: Db, terminalId: number, sessionId: string | undefined): Promise<boolean> {
  if (!sessionId) return false;
  const row = await db('sessions as s')
    .join('staff as st', 'st.id', 's.staff_id')
    .join('terminals as t', 't.id', 's.terminal_id')
    .where({ 's.id': sessionId, 's.terminal_id': terminalId, 'st.active': true })
    .whereNull('s.ended_at')
    .whereNull('t.revoked_at')
    .first('s.id');
  return row !== undefined;
}
