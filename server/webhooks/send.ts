import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { bareHost, type ResolvedAddress } from './target';

/**
 * POSTs one webhook body to `url`, connected to `to` and nowhere else: `to` is the address that
 * passed the target check (./target.ts), so the name is not resolved a second time (a DNS answer
 * that changes between the check and the connection cannot send us inside). The Host header and
 * the TLS server name stay the URL's name, so virtual hosts and certificates work as usual.
 * Redirects are not followed (http.request never does): the caller sees the 3xx status.
 * Resolves with the status once the answer's body has been read and dropped.
 */
export function postTo(url: URL, to: ResolvedAddress, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<number> {
  const host = bareHost(url.hostname);
  const send = url.protocol === 'https:' ? https.request : http.request;
  return new Promise<number>((resolve, reject) => {
    const req = send(
      {
        protocol: url.protocol,
        hostname: host,
        port: url.port || undefined,
        path: url.pathname + url.search,
        method: 'POST',
        headers: { ...headers, Host: url.host, 'Content-Length': String(Buffer.byteLength(body)) },
        lookup: pinnedLookup(to),
        // a fresh connection each time: a pooled one may be to an address checked under other rules
        agent: false,
        ...(url.protocol === 'https:' && !isIP(host) ? { servername: host } : {}),
        signal,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        res.on('error', reject);
        res.on('close', () => (res.complete ? resolve(status) : reject(new Error('the connection closed before the answer was complete'))));
        res.resume(); // drain: read the answer, keep none of it
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A `lookup` that answers every name with the one checked address, in both shapes net asks for. */
function pinnedLookup(to: ResolvedAddress): LookupFunction {
  return (_hostname, options, callback) => {
    if (options?.all) (callback as unknown as (err: null, all: ResolvedAddress[]) => void)(null, [{ address: to.address, family: to.family }]);
    else callback(null, to.address, to.family);
  };
}
