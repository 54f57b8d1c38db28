import { NetworkPrinter } from './network-printer';
import type { Printer } from './printer';
import type { PrinterProfile } from './profile';
import { SimulatedPrinter } from './simulated-printer';

/** A printer's device settings: a real one on the network, or the simulator writing text files. */
export type PrinterSettings =
  | { kind: 'network'; address: string; profile: PrinterProfile; ackTimeoutMs?: number }
  | { kind: 'simulated'; dir: string; profile: PrinterProfile };

/** The one place a Printer is chosen from its settings. */
export function createPrinter(settings: PrinterSettings, deps: { now?: () => Date } = {}): Printer {
  switch (settings.kind) {
    case 'network':
      return new NetworkPrinter({ address: settings.address, profile: settings.profile, ackTimeoutMs: settings.ackTimeoutMs });
    case 'simulated':
      return new SimulatedPrinter({ dir: settings.dir, profile: settings.profile, now: deps.now });
  }
}
