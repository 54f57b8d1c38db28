import { isIP } from 'node:net';

/**
 * Where a webhook may go. A token holder (or the owner) names the URL and then reads each
 * attempt's outcome in the delivery log: without these checks the store server is a port scanner
 * for the shop's own network (issue 18, item 5). So a target must be a public address, unless the
 * owner turns on the lab setting below; a URL's literal address is checked when it is registered,
 * and every name is resolved and checked at each delivery, which then connects only to the address
 * that passed.
 *
 * Pure: no I/O here except through the resolver a caller passes in.
 */

/** The business setting that lets webhooks reach private and loopback addresses, as it is labelled. */
export const LAB_SETTING_LABEL = 'Allow webhooks to private and loopback addresses (for testing only)';

export type RefusedRange =
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'multicast'
  | 'unspecified'
  | 'shared (carrier-grade NAT)'
  | 'reserved';

const ARTICLE: Record<RefusedRange, string> = {
  loopback: 'a loopback address',
  private: 'a private address',
  'link-local': 'a link-local address',
  multicast: 'a multicast address',
  unspecified: 'an unspecified address',
  'shared (carrier-grade NAT)': 'a shared (carrier-grade NAT) address',
  reserved: 'a reserved address',
};

/** "a loopback address", for messages. */
export const describeRange = (r: RefusedRange): string => ARTICLE[r];

// [first address as a 32-bit number, prefix length, range]
const V4: Array<[number, number, RefusedRange]> = [
  [v4('0.0.0.0'), 8, 'unspecified'], // "this network"; 0.0.0.0 reaches the host itself
  [v4('10.0.0.0'), 8, 'private'],
  [v4('100.64.0.0'), 10, 'shared (carrier-grade NAT)'],
  [v4('127.0.0.0'), 8, 'loopback'],
  [v4('169.254.0.0'), 16, 'link-local'], // includes the cloud metadata address 169.254.169.254
  [v4('172.16.0.0'), 12, 'private'],
  [v4('192.0.0.0'), 24, 'reserved'], // IETF protocol assignments
  [v4('192.168.0.0'), 16, 'private'],
  [v4('198.18.0.0'), 15, 'reserved'], // network benchmarking: lab networks
  [v4('224.0.0.0'), 4, 'multicast'],
  [v4('240.0.0.0'), 4, 'reserved'], // includes the broadcast address 255.255.255.255
];

/** The refused range a dotted IPv4 address is in, or null when it is public. */
function classifyV4(n: number): RefusedRange | null {
  for (const [first, bits, range] of V4) {
    if (n >>> (32 - bits) === first >>> (32 - bits)) return range;
  }
  return null;
}

function v4(text: string): number {
  const parts = text.split('.').map(Number);
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

/** An IPv6 address as its eight 16-bit groups (zone id dropped, embedded dotted IPv4 expanded). */
function v6Groups(text: string): number[] {
  let s = text.split('%')[0].toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const n = v4(dotted[1]);
    s = s.slice(0, dotted.index) + ((n >>> 16).toString(16) + ':' + (n & 0xffff).toString(16));
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const parse = (part: string | undefined) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const h = parse(head);
  const t = parse(tail);
  return tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
}

function classifyV6(g: number[]): RefusedRange | null {
  const embedded = (hi: number, lo: number) => ((hi << 16) | lo) >>> 0;
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroUpTo(8)) return 'unspecified'; // ::
  if (zeroUpTo(7) && g[7] === 1) return 'loopback'; // ::1
  // ::ffff:a.b.c.d, IPv4-mapped: a dual-stack socket connects to the IPv4 address
  if (zeroUpTo(5) && g[5] === 0xffff) return classifyV4(embedded(g[6], g[7]));
  // 64:ff9b::/96 (NAT64): a translator connects to the IPv4 address; 64:ff9b:1::/48 is local use
  if (g[0] === 0x64 && g[1] === 0xff9b) {
    if (g.slice(2, 6).every((x) => x === 0)) return classifyV4(embedded(g[6], g[7]));
    if (g[2] === 1) return 'private';
  }
  // ::a.b.c.d, IPv4-compatible (deprecated), and the rest of ::/8: reserved whatever they embed
  if (g[0] >>> 8 === 0) return (zeroUpTo(6) && g[6] >= 0x100 && classifyV4(embedded(g[6], g[7]))) || 'reserved';
  if (g[0] === 0x100 && g[1] === 0 && g[2] === 0 && g[3] === 0) return 'reserved'; // 100::/64, discard only
  if (g[0] === 0x2002) return classifyV4(embedded(g[1], g[2])); // 6to4 embeds the IPv4 address
  if ((g[0] & 0xfe00) === 0xfc00) return 'private'; // fc00::/7, unique local
  if ((g[0] & 0xffc0) === 0xfe80) return 'link-local'; // fe80::/10
  if ((g[0] & 0xffc0) === 0xfec0) return 'private'; // fec0::/10, site-local (deprecated)
  if ((g[0] & 0xff00) === 0xff00) return 'multicast'; // ff00::/8
  return null;
}

/**
 * The refused range an IP address (IPv4 dotted, or IPv6 with or without brackets) is in, null
 * when it is public, or undefined when the text is not an IP address at all.
 */
export function classifyAddress(address: string): RefusedRange | null | undefined {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const family = isIP(bare.split('%')[0]);
  if (family === 4) return classifyV4(v4(bare));
  if (family === 6) return classifyV6(v6Groups(bare));
  return undefined;
}

/** `localhost` and every name under it resolve to loopback (RFC 6761); a trailing dot changes nothing. */
export const isLocalhostName = (hostname: string): boolean => /(^|\.)localhost\.?$/i.test(hostname);

/** A URL's hostname without the brackets of an IPv6 literal: what a socket connects to. */
export const bareHost = (hostname: string): string => (hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname);

/**
 * Why a URL's host may not be registered as a webhook target, or null when it may. Only what the
 * URL itself says is checked: a literal address, or a localhost name. Other names are not resolved
 * here: what a name resolves to can change at any time, so it is checked at every delivery
 * (`resolveTarget`), and registering a URL sends no packet anywhere.
 */
export function refusedHost(hostname: string): string | null {
  if (isLocalhostName(hostname)) return `${hostname} is a loopback name`;
  const range = classifyAddress(hostname);
  return range ? `${bareHost(hostname)} is ${describeRange(range)}` : null;
}

export interface ResolvedAddress {
  address: string;
  family: number;
}
/** Resolves a name to all its addresses, like `dns.promises.lookup(name, { all: true })`. */
export type Lookup = (hostname: string) => Promise<ResolvedAddress[]>;

/** A delivery refused before any connection was made; the message says why. */
export class TargetRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetRefused';
  }
}

/**
 * The one address a delivery to `hostname` may connect to. A literal address is checked as it is;
 * a name is resolved with `lookup` and refused when ANY of its addresses is in a refused range (a
 * name with a public and a private address is someone pointing at the inside). Unless
 * `allowPrivate` (the lab setting) is on. Throws TargetRefused, or what `lookup` throws.
 */
export async function resolveTarget(hostname: string, lookup: Lookup, allowPrivate: boolean): Promise<ResolvedAddress> {
  const host = bareHost(hostname);
  const family = isIP(host);
  if (family) {
    const range = classifyAddress(host);
    if (range && !allowPrivate) throw new TargetRefused(`refused: ${host} is ${describeRange(range)}`);
    return { address: host, family };
  }
  if (isLocalhostName(host) && !allowPrivate) throw new TargetRefused(`refused: ${host} is a loopback name`);
  const found = await lookup(host);
  if (!found.length) throw new TargetRefused(`refused: ${host} resolves to no address`);
  for (const a of found) {
    const range = classifyAddress(a.address);
    if (range === undefined) throw new TargetRefused(`refused: ${host} resolves to ${a.address}, which is not an IP address`);
    if (range && !allowPrivate) throw new TargetRefused(`refused: ${host} resolves to ${a.address}, ${describeRange(range)}`);
  }
  const first = found[0];
  return { address: first.address, family: isIP(first.address) };
}
