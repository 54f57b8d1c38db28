import { HidScannerSource, type DeviceMatch, type NodeHid } from './hid-source';
import type { ScannerSource } from './scanner';
import { SimulatedHidSource } from './simulated-source';

/** A scanner's device settings: a USB HID scanner by vendor/product id or path, or the simulator. */
export type ScannerSettings = { kind: 'hid'; match: DeviceMatch } | { kind: 'simulated' };

/** The one place a ScannerSource is chosen from its settings; node-hid is loaded only when a 'hid' source starts. */
export function createScanner(settings: ScannerSettings, deps: { log: (message: string) => void; loadHid?: () => Promise<NodeHid>; pollMs?: number }): ScannerSource {
  switch (settings.kind) {
    case 'hid':
      return new HidScannerSource({ match: settings.match, log: deps.log, load: deps.loadHid, pollMs: deps.pollMs });
    case 'simulated':
      return new SimulatedHidSource();
  }
}
