import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { HidScannerSource, type HidDeviceInfo, type HidHandle, type NodeHid } from './hid-source';
import { reportsFor } from './simulated-source';

/** node-hid as the source sees it: a device list the test edits, handles the test feeds. */
class FakeNodeHid implements NodeHid {
  devices: HidDeviceInfo[] = [];
  opened: (HidHandle & EventEmitter & { closed: boolean })[] = [];
  openError: Error | undefined;
  async devicesAsync() {
    return [...this.devices];
  }
  HIDAsync = {
    open: async (path: string) => {
      if (this.openError) throw this.openError;
      if (!this.devices.some((d) => d.path === path)) throw new Error(`cannot open device with path ${path}`);
      const h = Object.assign(new EventEmitter(), { closed: false, close: async () => void (h.closed = true) });
      this.opened.push(h);
      return h;
    },
  };
}

const SCANNER: HidDeviceInfo = { vendorId: 0x05e0, productId: 0x1200, path: '/dev/hidraw3', product: 'Symbol Bar Code Scanner', usagePage: 1, usage: 6 };
const waitFor = async (cond: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('HidScannerSource: node-hid loaded lazily, devices opened and re-opened', () => {
  let logs: string[];
  let hid: FakeNodeHid;
  let source: HidScannerSource | undefined;
  const make = (opts: Partial<ConstructorParameters<typeof HidScannerSource>[0]> = {}) =>
    (source = new HidScannerSource({ match: { vendorId: 0x05e0, productId: 0x1200 }, load: async () => hid, log: (m) => logs.push(m), pollMs: 10, access: async () => undefined, ...opts }));
  beforeEach(() => {
    logs = [];
    hid = new FakeNodeHid();
  });
  afterEach(async () => {
    await source?.stop();
    source = undefined;
  });

  it('when node-hid cannot load, says "scanner feature off: <reason>" once and stays off', async () => {
    const s = make({ load: async () => Promise.reject(new Error('libusb-1.0.so.0: cannot open shared object file: No such file or directory')) });
    await s.start();
    await s.stop();
    await s.start();
    assert.equal(s.state, 'off');
    assert.deepEqual(logs, ['scanner feature off: libusb-1.0.so.0: cannot open shared object file: No such file or directory']);
  });

  it('opens the device by vendor/product id and turns its reports into codes', async () => {
    hid.devices = [{ ...SCANNER, usage: 1, path: '/dev/hidraw2' }, SCANNER]; // the keyboard interface, not the other one
    const s = make();
    const codes: string[] = [];
    s.onScan((c) => codes.push(c));
    await s.start();
    assert.equal(s.state, 'open');
    assert.match(logs.join('\n'), /scanner 05e0:1200: opened \/dev\/hidraw3 \(Symbol Bar Code Scanner\)/);
    for (const r of reportsFor('4006381333931\n')) hid.opened[0]!.emit('data', Buffer.from(r));
    assert.deepEqual(codes, ['4006381333931']);
  });

  it('opens by path, waits while the device is absent, and re-opens it when it comes back', async () => {
    const s = make({ match: { path: '/dev/hidraw3' } });
    const codes: string[] = [];
    s.onScan((c) => codes.push(c));
    await s.start();
    assert.equal(s.state, 'waiting');
    hid.devices = [SCANNER]; // plugged in
    await waitFor(() => s.state === 'open');
    hid.devices = []; // unplugged: node-hid's read fails
    hid.opened[0]!.emit('error', new Error('could not read from HID device'));
    assert.equal(s.state, 'waiting');
    assert.equal(hid.opened[0]!.closed, true);
    hid.devices = [SCANNER]; // back
    await waitFor(() => s.state === 'open');
    for (const r of reportsFor('42\n')) hid.opened[1]!.emit('data', Buffer.from(r));
    assert.deepEqual(codes, ['42']);
    assert.deepEqual(logs, [
      'scanner /dev/hidraw3: not connected, waiting for it',
      'scanner /dev/hidraw3: opened /dev/hidraw3 (Symbol Bar Code Scanner)',
      'scanner /dev/hidraw3: lost (could not read from HID device), waiting for it to come back',
      'scanner /dev/hidraw3: not connected, waiting for it',
      'scanner /dev/hidraw3: opened /dev/hidraw3 (Symbol Bar Code Scanner)',
    ]);
  });

  it('says once, with the udev rule, when the device node is not readable, then opens once it is', async () => {
    hid.devices = [SCANNER];
    let allowed = false;
    const s = make({
      access: async () => {
        if (!allowed) throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
      },
    });
    await s.start();
    await new Promise((r) => setTimeout(r, 50)); // several polls
    assert.equal(s.state, 'waiting');
    assert.equal(logs.length, 1);
    assert.match(logs[0]!, /\/dev\/hidraw3 is not readable by this user; install the udev rule .*SUBSYSTEM=="hidraw".*GROUP="store-server", MODE="0660"/);
    assert.equal(s.detail, logs[0], 'the back office shows it too');
    allowed = true;
    await waitFor(() => s.state === 'open');
  });

  it('skips a report of the wrong size with a message, and keeps reading', async () => {
    hid.devices = [SCANNER];
    const s = make();
    const codes: string[] = [];
    s.onScan((c) => codes.push(c));
    await s.start();
    hid.opened[0]!.emit('data', Buffer.from([0, 0, 0x1e]));
    for (const r of reportsFor('7\n')) hid.opened[0]!.emit('data', Buffer.from(r));
    assert.deepEqual(codes, ['7']);
    assert.match(logs.at(-1)!, /8 bytes, not 3/);
  });
});

describe('HidScannerSource with the real node-hid loader', () => {
  it('starts on this machine either waiting for its device (node-hid loaded) or off with one line (it did not)', async () => {
    const logs: string[] = [];
    const s = new HidScannerSource({ match: { path: '/dev/hidraw-not-there' }, log: (m) => logs.push(m), pollMs: 60_000 });
    await s.start();
    await s.stop();
    assert.equal(logs.length, 1, logs.join('\n'));
    assert.match(logs[0]!, /^scanner \/dev\/hidraw-not-there: not connected, waiting for it$|^scanner feature off: .*(libusb|libudev|shared object)/);
  });
});
