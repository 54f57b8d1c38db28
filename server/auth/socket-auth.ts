import type { Db } from '../db/knex';
import type { SocketAuthorizer } from '../realtime/io';
import { DEVICE_COOKIE, readSignedCookie } from './cookies';
import { decodeDevice, terminalForDevice } from './service';

/** socket.io handshakes are authenticated with the same signed device cookie as HTTP. */
export function socketAuthorizer(db: Db, secretKey: string): SocketAuthorizer {
  return async (req) => {
    const t = await terminalForDevice(db, decodeDevice(readSignedCookie(req, DEVICE_COOKIE, secretKey)));
    return t ? { terminalId: t.id } : undefined;
  };
}
