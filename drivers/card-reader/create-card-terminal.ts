import type { CardTerminal } from './card-terminal';
import { SimulatedTerminal } from './simulated-terminal';
import { StripeTerminal } from './stripe-terminal';

export interface CardTerminalChoice {
  secretKey?: string;
  apiBase?: string;
  /** a demo with no key takes cards on the simulator */
  demo?: boolean;
  now?: () => number;
}

/** The one place that picks the card terminal: Stripe with a key, the simulator for a demo without one, none otherwise. */
export function createCardTerminal(c: CardTerminalChoice): CardTerminal | null {
  if (c.secretKey) return new StripeTerminal({ secretKey: c.secretKey, apiBase: c.apiBase });
  if (c.demo) return new SimulatedTerminal({ now: c.now });
  return null;
}
