import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import sea from 'node:sea';
import { HidReportDecoder } from './hid-decoder';
import type { ScannerSource, ScannerState } from './scanner';

/** The part of node-hid this source uses (its async API), so a test can hand in its own. */
export interface NodeHid {
  devicesAsync(): Promise<HidDeviceInfo[]>;
  HIDAsync: { open(path: string): Promise<HidHandle> };
}
export interface HidDeviceInfo {
  vendorId: number;
  productId: number;
  path?: string;
  product?: string;
  usagePage?: number;
  usage?: number;
  interface?: number;
}
export interface HidHandle {
  on(event: 'data', listener: (data: Buffer) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  close(): Promise<void>;
}

/**
 * Loads node-hid and its native binding. node-hid loads the binding on first use, so this calls
 * it once: a machine without libusb-1.0 / libudev fails here, not in the middle of a scan.
 */
export async function loadNodeHid(): Promise<NodeHid> {
  // inside the packaged binary `require` reaches only built-ins: node-hid sits beside it in node_modules/
  const mod = (sea.isSea() ? createRequire(process.execPath)('node-hid') : await import('node-hid')) as unknown as NodeHid & { default?: NodeHid };
  const hid = typeof mod.devicesAsync === 'function' ? mod : mod.default!;
  await hid.devicesAsync();
  return hid;
}

export type DeviceMatch = { vendorId: number; productId: number } | { path: string };

export interface HidSourceOptions {
  match: DeviceMatch;
  /** node-hid, loaded when the source starts (injected so a test can make loading fail) */
  load?: () => Promise<NodeHid>;
  /** one line per state change: "scanner feature off: …", "scanner … opened", … */
  log: (message: string) => void;
  /** how often to look for the device while it is absent (hot-plug) */
  pollMs?: number;
  /** checks read+write access to a device node; injected for tests */
  access?: (path: string) => Promise<void>;
}

const UDEV_HINT =
  'install the udev rule the installer ships (SUBSYSTEM=="hidraw", ATTRS{idVendor}=="<vendor id>", GROUP="store-server", MODE="0660") and replug the scanner';

/**
 * A USB HID barcode scanner read through node-hid (hidraw on Linux). node-hid is loaded lazily,
 * when the source starts; when it cannot load, the source logs "scanner feature off: <reason>"
 * once and stays 'off' — the rest of the server works as before. It polls the device list until
 * its device is there, opens it, and goes back to polling when the device goes away (hot-plug).
 */
export class HidScannerSource implements ScannerSource {
  state: ScannerState = 'stopped';
  private hid: NodeHid | undefined;
  private handle: HidHandle | undefined;
  private timer: NodeJS.Timeout | undefined;
  private listeners: ((code: string) => void)[] = [];
  private lastMessage = '';
  private polling: Promise<void> = Promise.resolve();

  constructor(private readonly options: HidSourceOptions) {}

  get detail(): string | undefined {
    return this.lastMessage || undefined;
  }

  onScan(listener: (code: string) => void): void {
    this.listeners.push(listener);
  }

  async start(): Promise<void> {
    if (this.state !== 'stopped') return;
    if (!this.hid) {
      try {
        this.hid = await (this.options.load ?? loadNodeHid)();
      } catch (e) {
        this.state = 'off';
        this.say(`scanner feature off: ${(e as Error).message.split('\n')[0]}`);
        return;
      }
    }
    this.state = 'waiting';
    await this.poll();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.state = 'stopped';
    await this.polling;
    await this.closeHandle();
  }

  private describe(): string {
    const m = this.options.match;
    return 'path' in m ? m.path : `${hex4(m.vendorId)}:${hex4(m.productId)}`;
  }

  /** logs a message once, not again while it stays the same (polling repeats it every pollMs) */
  private say(message: string) {
    if (message === this.lastMessage) return;
    this.lastMessage = message;
    this.options.log(message);
  }

  private poll(): Promise<void> {
    this.polling = this.tryOpen().finally(() => {
      if (this.state === 'waiting') this.timer = setTimeout(() => void this.poll(), this.options.pollMs ?? 2000);
    });
    return this.polling;
  }

  private async tryOpen(): Promise<void> {
    const hid = this.hid!;
    let devices: HidDeviceInfo[];
    try {
      devices = await hid.devicesAsync();
    } catch (e) {
      this.say(`scanner ${this.describe()}: cannot list HID devices: ${(e as Error).message}`);
      return;
    }
    const m = this.options.match;
    const found = devices.filter((d) => ('path' in m ? d.path === m.path : d.vendorId === m.vendorId && d.productId === m.productId) && d.path);
    // a scanner may expose several interfaces; the keyboard one has usage page 1, usage 6
    const device = found.find((d) => d.usagePage === 1 && d.usage === 6) ?? found[0];
    if (!device) {
      this.say(`scanner ${this.describe()}: not connected, waiting for it`);
      return;
    }
    const path = device.path!;
    try {
      await (this.options.access ?? ((p) => fs.access(p, fs.constants.R_OK | fs.constants.W_OK)))(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') {
        this.say(`scanner ${this.describe()}: ${path} is not readable by this user; ${UDEV_HINT}`);
        return;
      }
      // ENOENT: the path is not a device node (macOS, Windows): let node-hid try it
      if (code !== 'ENOENT') {
        this.say(`scanner ${this.describe()}: cannot check ${path}: ${(e as Error).message}`);
        return;
      }
    }
    if (this.state !== 'waiting') return;
    let handle: HidHandle;
    try {
      handle = await hid.HIDAsync.open(path);
    } catch (e) {
      this.say(`scanner ${this.describe()}: cannot open ${path}: ${(e as Error).message}; if it is a permission problem, ${UDEV_HINT}`);
      return;
    }
    if (this.state !== 'waiting') {
      await handle.close().catch(() => undefined);
      return;
    }
    this.handle = handle;
    this.state = 'open';
    this.say(`scanner ${this.describe()}: opened ${path}${device.product ? ` (${device.product})` : ''}`);
    const decoder = new HidReportDecoder();
    handle.on('data', (data) => {
      let codes: string[];
      try {
        codes = decoder.push(data.length === 9 ? data.subarray(1) : data); // hidraw prefixes a report id when the device numbers its reports
      } catch (e) {
        this.say(`scanner ${this.describe()}: ${(e as Error).message}`);
        return;
      }
      for (const c of codes) for (const l of this.listeners) l(c);
    });
    handle.on('error', (err) => {
      // unplugged: node-hid reports a read error; look for the device again
      if (this.handle !== handle) return;
      this.handle = undefined;
      void handle.close().catch(() => undefined);
      if (this.state !== 'open') return;
      this.state = 'waiting';
      this.say(`scanner ${this.describe()}: lost (${err.message}), waiting for it to come back`);
      void this.poll();
    });
  }

  private async closeHandle() {
    const h = this.handle;
    this.handle = undefined;
    if (h) await h.close().catch(() => undefined);
  }
}

const hex4 = (n: number) => n.toString(16).padStart(4, '0');
