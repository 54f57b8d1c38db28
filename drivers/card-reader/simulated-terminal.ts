import crypto from 'node:crypto';
import { CardError, type CardTerminal, type IntentRequest, type IntentState, type ReaderState, type RefundState, type TippingOptions } from './card-terminal';

export interface SimulatedTerminalOptions {
  /** the time, for the customer's simulated tap (the server's injected clock) */
  now?: () => number;
  /** a processed intent is tapped with the test card this long after it reached the reader (0: only presentCard taps) */
  tapAfterMs?: number;
}

interface SimIntent extends IntentState {
  request: IntentRequest;
  key: string;
}

/**
 * A demo's card reader with no Stripe account: readers register with any code, a payment sent to
 * one is "tapped" with a Visa ending 4242 a few seconds later (or when presentCard says so; card
 * number 4000000000000002 is declined, as Stripe's test card is). Kept in memory only.
 */
export class SimulatedTerminal implements CardTerminal {
  readonly kind = 'simulated';
  private readonly intents = new Map<string, SimIntent>();
  private readonly byKey = new Map<string, string>();
  private readonly readers = new Map<string, ReaderState & { since: number; tipping: boolean }>();
  private readonly now: () => number;
  private readonly tapAfterMs: number;

  constructor(opts: SimulatedTerminalOptions = {}) {
    this.now = opts.now ?? (() => Date.now());
    this.tapAfterMs = opts.tapAfterMs ?? 3000;
  }

  async createIntent(req: IntentRequest, key: string): Promise<IntentState> {
    const known = this.byKey.get(key);
    if (known) {
      const pi = this.intents.get(known)!;
      if (JSON.stringify(pi.request) !== JSON.stringify(req)) throw new CardError('idempotency', `Keys for idempotent requests can only be used with the same parameters they were first used with.`);
      return state(pi);
    }
    const id = `pi_sim_${crypto.randomBytes(8).toString('hex')}`;
    const pi: SimIntent = { id, status: 'requires_payment_method', amount: req.amount, amountReceived: 0, amountCapturable: 0, tip: 0, chargeId: null, brand: null, last4: null, lastError: null, request: req, key };
    this.intents.set(id, pi);
    this.byKey.set(key, id);
    return state(pi);
  }

  async retrieveIntent(id: string): Promise<IntentState> {
    this.autoTap();
    return state(this.intent(id));
  }

  async cancelIntent(id: string): Promise<IntentState> {
    const pi = this.intent(id);
    if (pi.status === 'succeeded' || pi.status === 'canceled') throw new CardError('unexpected-state', `This PaymentIntent's status is ${pi.status}; it cannot be canceled.`, 'payment_intent_unexpected_state');
    pi.status = 'canceled';
    return state(pi);
  }

  async captureIntent(id: string): Promise<IntentState> {
    const pi = this.intent(id);
    if (pi.status !== 'requires_capture') throw new CardError('unexpected-state', `This PaymentIntent could not be captured because it has a status of ${pi.status}.`, 'payment_intent_unexpected_state');
    Object.assign(pi, { status: 'succeeded', amountReceived: pi.amountCapturable, amountCapturable: 0 });
    return state(pi);
  }

  async registerReader(code: string, label: string): Promise<ReaderState> {
    const id = `tmr_sim_${crypto.createHash('sha256').update(code).digest('hex').slice(0, 14)}`;
    const r = { id, label, deviceType: 'simulated_wisepos_e', serialNumber: `SIM-${id.slice(-6).toUpperCase()}`, status: 'online' as const, action: null, since: 0, tipping: false };
    this.readers.set(id, r);
    return view(r);
  }

  async retrieveReader(id: string): Promise<ReaderState> {
    this.autoTap();
    return view(this.reader(id));
  }

  async processIntent(readerId: string, intentId: string, tipping?: TippingOptions): Promise<ReaderState> {
    const r = this.reader(readerId);
    if (r.action?.status === 'in_progress') throw new CardError('reader-busy', 'Reader is currently busy processing another request.', 'terminal_reader_busy');
    this.intent(intentId);
    Object.assign(r, { action: { type: 'process_payment_intent', status: 'in_progress', paymentIntentId: intentId, failureCode: null, failureMessage: null }, since: this.now(), tipping: Boolean(tipping) });
    return view(r);
  }

  async cancelReaderAction(readerId: string): Promise<ReaderState> {
    const r = this.reader(readerId);
    if (r.action?.status === 'in_progress') r.action = { ...r.action, status: 'failed', failureCode: 'customer_canceled', failureMessage: 'The action was canceled.' };
    return view(r);
  }

  async createRefund(paymentIntentId: string, amount: number): Promise<RefundState> {
    const pi = this.intent(paymentIntentId);
    if (pi.status !== 'succeeded' || amount > pi.amountReceived) throw new CardError('other', 'Refund amount is greater than the charge amount.', 'amount_too_large');
    return { id: `re_sim_${crypto.randomBytes(8).toString('hex')}`, status: 'succeeded', amount, failureReason: null };
  }

  async presentCard(readerId: string, card: { number?: string; tip?: number } = {}): Promise<ReaderState> {
    const r = this.reader(readerId);
    const action = r.action;
    if (!action || action.status !== 'in_progress' || !action.paymentIntentId) throw new CardError('other', 'The reader has nothing to collect.');
    const pi = this.intent(action.paymentIntentId);
    if (card.number === '4000000000000002') {
      r.action = { ...action, status: 'failed', failureCode: 'card_declined', failureMessage: 'Your card was declined.' };
      pi.lastError = 'Your card was declined.';
      return view(r);
    }
    const tip = r.tipping ? card.tip ?? 0 : 0;
    const amount = pi.amount + tip;
    const manual = pi.request.capture_method === 'manual';
    Object.assign(pi, { amount, tip, status: manual ? 'requires_capture' : 'succeeded', amountReceived: manual ? 0 : amount, amountCapturable: manual ? amount : 0, chargeId: `ch_sim_${crypto.randomBytes(8).toString('hex')}`, brand: 'visa', last4: '4242', lastError: null });
    r.action = { ...action, status: 'succeeded' };
    return view(r);
  }

  /** the demo's customer taps once the reader has waited long enough */
  private autoTap(): void {
    if (this.tapAfterMs <= 0) return;
    for (const r of this.readers.values()) {
      if (r.action?.status === 'in_progress' && this.now() - r.since >= this.tapAfterMs) void this.presentCard(r.id);
    }
  }

  private intent(id: string): SimIntent {
    const pi = this.intents.get(id);
    if (!pi) throw new CardError('not-found', `No such payment_intent: '${id}'`, 'resource_missing');
    return pi;
  }

  private reader(id: string) {
    let r = this.readers.get(id);
    // a simulated reader registered before a restart is still there: the simulator keeps nothing on disk
    if (!r && id.startsWith('tmr_sim_')) this.readers.set(id, (r = { id, label: 'Simulated reader', deviceType: 'simulated_wisepos_e', serialNumber: `SIM-${id.slice(-6).toUpperCase()}`, status: 'online', action: null, since: 0, tipping: false }));
    if (!r) throw new CardError('not-found', `No such terminal.reader: '${id}'`, 'resource_missing');
    return r;
  }
}

const state = ({ request: _r, key: _k, ...pi }: SimIntent): IntentState => ({ ...pi });
const view = ({ since: _s, tipping: _t, ...r }: ReaderState & { since: number; tipping: boolean }): ReaderState => ({ ...r, action: r.action ? { ...r.action } : null });
