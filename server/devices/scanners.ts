import { z } from 'zod';
import { createScanner, type ScannerSettings } from '../../drivers/scanner/create-scanner';
import { loadNodeHid, type NodeHid } from '../../drivers/scanner/hid-source';
import type { ScannerSource, ScannerState } from '../../drivers/scanner/scanner';
import type { SimulatedHidSource } from '../../drivers/scanner/simulated-source';
import { listTerminals } from '../auth/service';
import type { Clock } from '../clock';
import type { Db, DbOrTrx } from '../db/knex';
import { isAppError, notFound, unprocessable } from '../errors';
import type { Publisher } from '../events';
import type { Logger } from '../logger';
import { terminalRoom, terminalView, type Io, type SocketView } from '../realtime/io';
import { scanToOrder } from './scan-to-order';

/**
 * USB barcode scanners plugged into the store server (issue 21): their bindings to terminals
 * (table `scanners`, migration 0022) and the service that keeps the bound ones open through
 * drivers/scanner and turns their scans into lines on the bound terminal's order.
 */

export type ScannerKind = 'hid' | 'simulated';

export interface ScannerBinding {
  id: number;
  name: string;
  kind: ScannerKind;
  vendorId: number | null;
  productId: number | null;
  path: string | null;
  terminalId: number | null;
  enabled: boolean;
}

const usbId = z.number().int().min(0).max(0xffff);
const fields = {
  name: z.string().trim().min(1).max(80),
  kind: z.enum(['hid', 'simulated']),
  vendorId: usbId.nullable(),
  productId: usbId.nullable(),
  path: z.string().trim().max(300).nullable().transform((v) => v || null),
  terminalId: z.number().int().positive().nullable(),
  enabled: z.boolean(),
};

/** A binding as asked for (the API's JSON, the back office's form once read). */
export const ScannerInput = z.strictObject({
  ...fields,
  kind: fields.kind.default('hid'),
  vendorId: fields.vendorId.default(null),
  productId: fields.productId.default(null),
  path: fields.path.default(null),
  terminalId: fields.terminalId.default(null),
  enabled: fields.enabled.default(true),
});
export type ScannerInput = z.infer<typeof ScannerInput>;
/** A change to a binding: only what is sent changes. */
export const ScannerPatch = z.strictObject(fields).partial();
export type ScannerPatch = z.infer<typeof ScannerPatch>;

type Row = { id: number; name: string; kind: ScannerKind; vendor_id: number | null; product_id: number | null; path: string | null; terminal_id: number | null; enabled: boolean };
const fromRow = (r: Row): ScannerBinding => ({
  id: Number(r.id), name: r.name, kind: r.kind, vendorId: r.vendor_id, productId: r.product_id, path: r.path,
  terminalId: r.terminal_id === null ? null : Number(r.terminal_id), enabled: r.enabled,
});

export async function listScanners(db: DbOrTrx): Promise<ScannerBinding[]> {
  return ((await db('scanners').orderBy('id')) as Row[]).map(fromRow);
}

export async function getScanner(db: DbOrTrx, id: number): Promise<ScannerBinding> {
  const row = (await db('scanners').where({ id }).first()) as Row | undefined;
  if (!row) throw notFound('That scanner');
  return fromRow(row);
}

/** A binding's rules: a USB scanner is found by vendor and product id or by path; a terminal must be paired. */
async function checked(db: DbOrTrx, b: Omit<ScannerBinding, 'id'>): Promise<Omit<ScannerBinding, 'id'>> {
  if (b.kind === 'hid' && !b.path && (b.vendorId == null || b.productId == null)) {
    throw unprocessable('Say how to find the scanner: its USB vendor and product id, or its device path.', 'scanner-unfindable');
  }
  if (b.terminalId !== null && !(await listTerminals(db)).some((t: { id: number; revoked_at: Date | null }) => Number(t.id) === b.terminalId && !t.revoked_at)) {
    throw unprocessable(`There is no paired terminal ${b.terminalId}.`, 'unknown-terminal');
  }
  return b;
}

const toRow = (b: Omit<ScannerBinding, 'id'>) => ({
  name: b.name, kind: b.kind, vendor_id: b.vendorId, product_id: b.productId, path: b.path, terminal_id: b.terminalId, enabled: b.enabled,
});

export async function addScanner(db: DbOrTrx, clock: Clock, input: ScannerInput): Promise<ScannerBinding> {
  const b = await checked(db, input);
  const [row] = await db('scanners').insert({ ...toRow(b), created_at: clock.now(), updated_at: clock.now() }).returning('*');
  return fromRow(row as Row);
}

export async function changeScanner(db: DbOrTrx, clock: Clock, id: number, patch: ScannerPatch): Promise<ScannerBinding> {
  const { id: _, ...current } = await getScanner(db, id);
  const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
  const b = await checked(db, { ...current, ...defined });
  const [row] = await db('scanners').where({ id }).update({ ...toRow(b), updated_at: clock.now() }).returning('*');
  return fromRow(row as Row);
}

export async function removeScanner(db: DbOrTrx, id: number): Promise<void> {
  if (!(await db('scanners').where({ id }).delete())) throw notFound('That scanner');
}

/** A HID device node-hid sees that types like a keyboard (a scanner in its default mode does). */
export interface DetectedHid {
  vendorId: number;
  productId: number;
  path: string;
  product: string | null;
  manufacturer: string | null;
}

export interface ScannerServiceDeps {
  db: Db;
  clock: Clock;
  events: Publisher;
  log: Logger;
  /** socket.io, once the HTTP server exists: where a terminal is told */
  io: () => Io | undefined;
  /** node-hid, loaded once at start; injected so a test can make it fail */
  loadHid?: () => Promise<NodeHid>;
  /** how often a USB scanner that is not there is looked for again (hot-plug) */
  pollMs?: number;
}

/**
 * The scanners of the store server. At start it loads node-hid once: when that fails (no
 * libusb / libudev, no prebuilt binding), it says "scanner feature off: <reason>" once and opens
 * no USB scanner; simulated ones still work, and the rest of the server is untouched. Then it
 * opens every enabled binding (drivers/scanner: each source waits for its device, re-opens it
 * when it comes back, and says when its node is not readable), and `reload` follows binding
 * changes. A scan goes to the terminal's order one at a time per terminal, so a second scan
 * lands on the order the first one opened.
 */
export class ScannerService {
  feature: 'stopped' | 'on' | 'off' = 'stopped';
  offReason: string | undefined;
  private hid: NodeHid | undefined;
  private hidLoad: Promise<void> | undefined;
  private readonly open = new Map<number, { binding: ScannerBinding; source: ScannerSource; device: string }>();
  /** per terminal: the order a scan opened, and when (a view, like a socket's) */
  private readonly opened = new Map<number, SocketView>();
  /** per terminal: the scans being turned into lines, in order */
  private readonly queues = new Map<number, Promise<void>>();
  private syncing: Promise<void> = Promise.resolve();

  constructor(private readonly deps: ScannerServiceDeps) {}

  async start(): Promise<void> {
    if (this.feature !== 'stopped') return;
    await (this.hidLoad ??= this.loadHid());
    await this.reload();
  }

  private async loadHid(): Promise<void> {
    try {
      this.hid = await (this.deps.loadHid ?? loadNodeHid)();
      this.feature = 'on';
    } catch (e) {
      this.feature = 'off';
      this.offReason = String((e as Error)?.message ?? e).split('\n')[0];
      this.deps.log.warn(`scanner feature off: ${this.offReason}`);
    }
  }

  async stop(): Promise<void> {
    this.hidLoad = undefined;
    this.feature = 'stopped';
    await this.syncing;
    const sources = [...this.open.values()];
    this.open.clear();
    await Promise.all(sources.map((s) => s.source.stop()));
    await Promise.all(this.queues.values());
  }

  /** Follows the bindings as they are now: opens new and changed ones, closes removed and disabled ones. */
  reload(): Promise<void> {
    this.syncing = this.syncing.then(() => this.sync()).catch((err) => this.deps.log.error({ err }, 'scanner bindings could not be read'));
    return this.syncing;
  }

  private async sync(): Promise<void> {
    if (this.feature === 'stopped') return;
    const wanted = new Map((await listScanners(this.deps.db)).filter((b) => b.enabled).map((b) => [b.id, b]));
    for (const [id, o] of this.open) {
      const b = wanted.get(id);
      if (b && deviceOf(b) === o.device) {
        o.binding = b; // a new terminal or name needs no re-open
        continue;
      }
      this.open.delete(id);
      await o.source.stop();
    }
    for (const b of wanted.values()) {
      if (this.open.has(b.id)) continue;
      const settings = sourceSettings(b);
      if (settings.kind === 'hid' && !this.hid) continue; // the feature is off: said once at start
      const source = createScanner(settings, {
        log: (message) => this.deps.log.info({ scanner: b.id }, message),
        loadHid: async () => this.hid!,
        pollMs: this.deps.pollMs,
      });
      source.onScan((code) => this.scanned(b.id, code));
      this.open.set(b.id, { binding: b, source, device: deviceOf(b) });
      await source.start();
    }
  }

  /** A binding's live state: 'off' when node-hid did not load, 'disabled', or its source's state. */
  state(b: ScannerBinding): ScannerState | 'disabled' {
    if (!b.enabled) return 'disabled';
    const o = this.open.get(b.id);
    if (o) return o.source.state;
    return b.kind === 'hid' && this.feature === 'off' ? 'off' : 'stopped';
  }

  /** What the binding's source last said about its device (not connected, not readable…), or why the feature is off. */
  detail(b: ScannerBinding): string | null {
    if (b.kind === 'hid' && this.feature === 'off') return `scanner feature off: ${this.offReason}`;
    return this.open.get(b.id)?.source.detail ?? null;
  }

  /** The simulated source of binding `id`, to type scans into (demos, tests, the back office's test scan). */
  simulated(id: number): SimulatedHidSource | undefined {
    const o = this.open.get(id);
    return o?.binding.kind === 'simulated' ? (o.source as SimulatedHidSource) : undefined;
  }

  /** HID devices plugged in that type like a keyboard: what a scanner looks like (none when the feature is off). */
  async detect(): Promise<DetectedHid[]> {
    if (!this.hid) return [];
    const seen = new Map<string, DetectedHid>();
    for (const d of await this.hid.devicesAsync()) {
      if (!d.path || d.usagePage !== 1 || d.usage !== 6) continue;
      const info = d as typeof d & { manufacturer?: string };
      seen.set(d.path, { vendorId: d.vendorId, productId: d.productId, path: d.path, product: d.product ?? null, manufacturer: info.manufacturer ?? null });
    }
    return [...seen.values()];
  }

  private scanned(scannerId: number, code: string): void {
    const b = this.open.get(scannerId)?.binding;
    if (!b?.terminalId) {
      this.deps.log.info({ scanner: scannerId }, `scanner ${b?.name ?? scannerId} is bound to no terminal: scan ${code} dropped`);
      return;
    }
    const terminalId = b.terminalId;
    const next = (this.queues.get(terminalId) ?? Promise.resolve()).then(() => this.toOrder(terminalId, code));
    this.queues.set(terminalId, next);
    void next.finally(() => {
      if (this.queues.get(terminalId) === next) this.queues.delete(terminalId);
    });
  }

  /** One scan: onto the order the terminal shows (its sockets' latest view, or the order a scan just opened there). */
  private async toOrder(terminalId: number, code: string): Promise<void> {
    const io = this.deps.io();
    const seen = io ? await terminalView(io, terminalId) : undefined;
    const mine = this.opened.get(terminalId);
    const view = !seen || (mine && mine.at > seen.at) ? mine : seen;
    const tell = () => io?.to(terminalRoom(terminalId));
    try {
      const { orderId, opened } = await scanToOrder(
        { db: this.deps.db, clock: this.deps.clock, events: this.deps.events },
        { code, orderId: view?.orderId ?? null, actor: { terminalId } },
      );
      if (opened) {
        this.opened.set(terminalId, { orderId, at: process.hrtime.bigint() });
        tell()?.emit('scan:opened', { orderId });
      }
    } catch (err) {
      const known = isAppError(err) && err.status < 500;
      if (!known) this.deps.log.error({ err, terminalId, code }, 'a scan could not be added');
      tell()?.emit('scan:refused', { code, message: known ? err.message : `The scan ${code} could not be added: check the order and scan again.` });
    }
  }
}

function sourceSettings(b: ScannerBinding): ScannerSettings {
  if (b.kind === 'simulated') return { kind: 'simulated' };
  return { kind: 'hid', match: b.path ? { path: b.path } : { vendorId: b.vendorId!, productId: b.productId! } };
}

/** What a source opens: a change of it means closing the old source and opening a new one. */
const deviceOf = (b: ScannerBinding) => JSON.stringify(sourceSettings(b));
