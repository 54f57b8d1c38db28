import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type Stripe from 'stripe';
import { int, map, parseForm, str, unknownParam, type Form, type ParamSpec } from './stripe-form';

/**
 * A loopback peer that speaks the part of Stripe's API the store uses (issue 22), with Stripe's
 * shapes: form-encoded requests, idempotency-key replay (same key and parameters → the same answer,
 * `Idempotent-Replayed: true`; same key, other parameters → Stripe's `idempotency_error`), errors
 * in Stripe's `{ error: { type, code, message, param } }` format, and unknown parameters refused.
 * Replies are typed as the SDK's own types, so the compiler checks their shapes.
 *
 * Test controls: a reader taken offline (`setReaderStatus`), the customer's tap (`tap`, or the
 * present_payment_method test helper; card 4000000000000002 is declined, as Stripe's test card),
 * a reader action left in progress (never tap), and unreachable (`close()`: the port is closed).
 */
export interface StripeFakeOptions {
  secretKey?: string;
}

interface Stored {
  fingerprint: string;
  status: number;
  body: unknown;
}

type Reply = { status: number; body: unknown };

class ApiError extends Error {
  constructor(readonly status: number, readonly type: string, message: string, readonly code?: string, readonly param?: string) {
    super(message);
  }
}

const SPECS: Record<string, { [key: string]: ParamSpec }> = {
  'POST /v1/payment_intents': { amount: 'scalar', currency: 'scalar', allowed_payment_method_types: 'list', capture_method: 'scalar', description: 'scalar', metadata: 'map', expand: 'list' },
  'GET /v1/payment_intents/:id': { expand: 'list' },
  'POST /v1/payment_intents/:id/cancel': { cancellation_reason: 'scalar', expand: 'list' },
  'POST /v1/payment_intents/:id/capture': { amount_to_capture: 'scalar', expand: 'list' },
  'POST /v1/terminal/readers': { registration_code: 'scalar', label: 'scalar', location: 'scalar', metadata: 'map', expand: 'list' },
  'GET /v1/terminal/readers/:id': { expand: 'list' },
  'POST /v1/terminal/readers/:id/process_payment_intent': {
    payment_intent: 'scalar', expand: 'list',
    process_config: { skip_tipping: 'scalar', tipping: { amount_eligible: 'scalar' }, enable_customer_cancellation: 'scalar' },
  },
  'POST /v1/terminal/readers/:id/cancel_action': { expand: 'list' },
  'POST /v1/test_helpers/terminal/readers/:id/present_payment_method': { type: 'scalar', amount_tip: 'scalar', card_present: { number: 'scalar' }, expand: 'list' },
  'POST /v1/refunds': { payment_intent: 'scalar', amount: 'scalar', metadata: 'map', reason: 'scalar', expand: 'list' },
};

const DECLINED_CARD = '4000000000000002';
const CANCELABLE = ['requires_payment_method', 'requires_capture', 'requires_confirmation', 'requires_action', 'processing'];

export class StripeFake {
  readonly secretKey: string;
  /** every PaymentIntent made, by id */
  readonly intents = new Map<string, Stripe.PaymentIntent>();
  readonly charges = new Map<string, Stripe.Charge>();
  readonly readers = new Map<string, Stripe.Terminal.Reader>();
  readonly refunds = new Map<string, Stripe.Refund>();
  /** every request as received: method, path, its Idempotency-Key, its parameters */
  readonly requests: Array<{ method: string; path: string; key: string | null; params: Form; replayed: boolean }> = [];
  private readonly keys = new Map<string, Stored>();
  private readonly tipping = new Map<string, number | null>();
  private server?: http.Server;
  private sockets = new Set<import('node:net').Socket>();
  port = 0;

  constructor(opts: StripeFakeOptions = {}) {
    this.secretKey = opts.secretKey ?? `rk_test_${crypto.randomBytes(12).toString('hex')}`;
  }

  /** the base URL for STRIPE_API_BASE */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Stripe unreachable: the port is closed (start(fake.port) opens it again, state kept). */
  async close(): Promise<void> {
    if (!this.server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  /** A reader registered without the API (as one made in the Stripe dashboard). */
  addReader(label = 'Counter reader', code = 'simulated-wpe'): Stripe.Terminal.Reader {
    return this.registerReader({ registration_code: code, label });
  }

  setReaderStatus(id: string, status: 'online' | 'offline'): void {
    this.reader(id).status = status;
  }

  /** The customer presents a card on the reader (the test helper's rule, without HTTP). */
  tap(readerId: string, card: { number?: string; tip?: number } = {}): Stripe.Terminal.Reader {
    return this.present(readerId, { type: 'card_present', ...(card.number ? { card_present: { number: card.number } } : {}), ...(card.tip ? { amount_tip: String(card.tip) } : {}) });
  }

  /** PaymentIntents made with this create key (what a replay must find again) */
  intentsFor(metadataKey: string, value: string): Stripe.PaymentIntent[] {
    return [...this.intents.values()].filter((pi) => pi.metadata[metadataKey] === value);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const text = method === 'GET' ? url.search.slice(1) : Buffer.concat(chunks).toString('utf8');
    const key = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : null;
    let reply: Reply;
    let replayed = false;
    const params = parseForm(text);
    try {
      if (req.headers.authorization !== `Bearer ${this.secretKey}`) throw new ApiError(401, 'invalid_request_error', 'Invalid API Key provided.', 'api_key_invalid');
      if (method === 'POST' && !/^application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? '')) throw new ApiError(400, 'invalid_request_error', 'Invalid request: unsupported Content-Type.');
      const { route, id } = routeOf(method, url.pathname);
      const spec = SPECS[route];
      if (!spec) throw new ApiError(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${url.pathname}).`);
      const unknown = unknownParam(params, spec);
      if (unknown) throw new ApiError(400, 'invalid_request_error', `Received unknown parameter: ${unknown}`, 'parameter_unknown', unknown);
      const fingerprint = `${method} ${url.pathname} ${canonical(params)}`; // Stripe compares parameters, not their order
      const prior = method === 'POST' && key ? this.keys.get(key) : undefined;
      if (prior) {
        if (prior.fingerprint !== fingerprint) {
          throw new ApiError(400, 'idempotency_error', `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`);
        }
        reply = { status: prior.status, body: prior.body };
        replayed = true;
      } else {
        reply = { status: 200, body: this.dispatch(route, id, params) };
        if (method === 'POST' && key) this.keys.set(key, { fingerprint, ...reply });
      }
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(500, 'api_error', (err as Error).message);
      reply = { status: e.status, body: { error: { type: e.type, message: e.message, ...(e.code ? { code: e.code } : {}), ...(e.param ? { param: e.param } : {}), doc_url: e.code ? `https://stripe.com/docs/error-codes/${e.code.replace(/_/g, '-')}` : undefined } } };
      // Stripe stores the answer of a request that reached it, errors included (not 5xx or auth)
      if (method === 'POST' && key && e.status === 400 && e.type !== 'idempotency_error' && !this.keys.has(key)) this.keys.set(key, { fingerprint: `${method} ${url.pathname} ${canonical(params)}`, ...reply });
    }
    this.requests.push({ method, path: url.pathname, key, params, replayed });
    res.writeHead(reply.status, { 'Content-Type': 'application/json', 'Request-Id': `req_${crypto.randomBytes(7).toString('hex')}`, ...(replayed ? { 'Idempotent-Replayed': 'true' } : {}), ...(key ? { 'Idempotency-Key': key } : {}) });
    res.end(JSON.stringify(reply.body));
  }

  private dispatch(route: string, id: string, p: Form): unknown {
    const expandCharge = Array.isArray(p.expand) && p.expand.includes('latest_charge');
    switch (route) {
      case 'POST /v1/payment_intents':
        return this.withCharge(this.createIntent(p), expandCharge);
      case 'GET /v1/payment_intents/:id':
        return this.withCharge(this.intent(id), expandCharge);
      case 'POST /v1/payment_intents/:id/cancel':
        return this.withCharge(this.cancelIntent(id, str(p.cancellation_reason)), expandCharge);
      case 'POST /v1/payment_intents/:id/capture':
        return this.withCharge(this.capture(id, int(p.amount_to_capture)), expandCharge);
      case 'POST /v1/terminal/readers':
        return this.registerReader({ registration_code: str(p.registration_code), label: str(p.label), location: str(p.location) });
      case 'GET /v1/terminal/readers/:id':
        return this.reader(id);
      case 'POST /v1/terminal/readers/:id/process_payment_intent':
        return this.process(id, p);
      case 'POST /v1/terminal/readers/:id/cancel_action':
        return this.cancelAction(id);
      case 'POST /v1/test_helpers/terminal/readers/:id/present_payment_method':
        return this.present(id, p);
      case 'POST /v1/refunds':
        return this.refund(p);
    }
    throw new ApiError(404, 'invalid_request_error', 'Unrecognized request URL.');
  }

  private createIntent(p: Form): Stripe.PaymentIntent {
    const amount = int(p.amount);
    const currency = str(p.currency);
    if (amount === undefined) throw new ApiError(400, 'invalid_request_error', 'Missing required param: amount.', 'parameter_missing', 'amount');
    if (!currency) throw new ApiError(400, 'invalid_request_error', 'Missing required param: currency.', 'parameter_missing', 'currency');
    if (amount < 1) throw new ApiError(400, 'invalid_request_error', 'Amount must be at least 1.', 'amount_too_small', 'amount');
    const types = Array.isArray(p.allowed_payment_method_types) ? p.allowed_payment_method_types.map(String) : ['card'];
    const capture = str(p.capture_method) ?? 'automatic_async';
    if (!['automatic', 'automatic_async', 'manual'].includes(capture)) throw new ApiError(400, 'invalid_request_error', `Invalid capture_method: must be one of automatic, automatic_async, or manual`, 'parameter_invalid_string', 'capture_method');
    const id = `pi_${crypto.randomBytes(12).toString('hex')}`;
    const pi: Stripe.PaymentIntent = {
      id, object: 'payment_intent', allowed_payment_method_types: types as Stripe.PaymentIntent.AllowedPaymentMethodType[], amount, amount_capturable: 0, amount_received: 0, amount_details: { tip: {} },
      application: null, application_fee_amount: null, automatic_payment_methods: null, canceled_at: null, cancellation_reason: null,
      capture_method: capture as Stripe.PaymentIntent.CaptureMethod, client_secret: `${id}_secret_${crypto.randomBytes(8).toString('hex')}`, confirmation_method: 'automatic',
      created: nowSec(), currency: currency.toLowerCase(), customer: null, customer_account: null, description: str(p.description) ?? null, excluded_payment_method_types: null,
      last_payment_error: null, latest_charge: null, livemode: false, managed_payments: null, metadata: map(p.metadata), next_action: null, on_behalf_of: null, payment_method: null,
      payment_method_configuration_details: null, payment_method_options: null, payment_method_types: types, payment_record: null, processing: null, receipt_email: null,
      review: null, setup_future_usage: null, shipping: null, source: null, statement_descriptor: null, statement_descriptor_suffix: null, status: 'requires_payment_method', transfer_group: null,
    };
    this.intents.set(id, pi);
    return pi;
  }

  private cancelIntent(id: string, reason?: string): Stripe.PaymentIntent {
    const pi = this.intent(id);
    if (!CANCELABLE.includes(pi.status)) {
      throw new ApiError(400, 'invalid_request_error', `You cannot cancel this PaymentIntent because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be canceled: ${CANCELABLE.join(', ')}.`, 'payment_intent_unexpected_state');
    }
    Object.assign(pi, { status: 'canceled', canceled_at: nowSec(), cancellation_reason: reason ?? null, amount_capturable: 0 });
    for (const r of this.readers.values()) {
      if (r.action?.status === 'in_progress' && r.action.process_payment_intent?.payment_intent === id) r.action = { ...r.action, status: 'failed', failure_code: 'intent_canceled', failure_message: 'The PaymentIntent was canceled.' };
    }
    return pi;
  }

  private capture(id: string, amountToCapture?: number): Stripe.PaymentIntent {
    const pi = this.intent(id);
    if (pi.status !== 'requires_capture') throw new ApiError(400, 'invalid_request_error', `This PaymentIntent could not be captured because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.`, 'payment_intent_unexpected_state');
    const amount = amountToCapture ?? pi.amount_capturable;
    if (amount > pi.amount_capturable) throw new ApiError(400, 'invalid_request_error', 'The amount to capture is more than what is capturable.', 'amount_too_large', 'amount_to_capture');
    Object.assign(pi, { status: 'succeeded', amount_received: amount, amount_capturable: 0 });
    const ch = this.charges.get(pi.latest_charge as string)!;
    Object.assign(ch, { captured: true, amount_captured: amount });
    return pi;
  }

  private registerReader(p: { registration_code?: string; label?: string; location?: string }): Stripe.Terminal.Reader {
    const code = p.registration_code;
    if (!code) throw new ApiError(400, 'invalid_request_error', 'Missing required param: registration_code.', 'parameter_missing', 'registration_code');
    if (code !== 'simulated-wpe' && !/^[a-z]+-[a-z]+-[a-z]+$/.test(code)) throw new ApiError(400, 'invalid_request_error', 'The registration code is invalid. Restart the reader and try again with the code it shows.', 'resource_missing', 'registration_code');
    const id = `tmr_${crypto.randomBytes(10).toString('hex')}`;
    const r: Stripe.Terminal.Reader = {
      id, object: 'terminal.reader', action: null, device_sw_version: '2.36.1.0', device_type: code === 'simulated-wpe' ? 'simulated_wisepos_e' : 'bbpos_wisepos_e', ip_address: '0.0.0.0',
      label: p.label ?? 'Reader', last_seen_at: Date.now(), livemode: false, location: p.location ?? null, metadata: {}, serial_number: `SIM-${id.slice(-8)}`, status: 'online',
    };
    this.readers.set(id, r);
    return r;
  }

  private process(readerId: string, p: Form): Stripe.Terminal.Reader {
    const r = this.reader(readerId);
    if (r.status === 'offline') throw new ApiError(400, 'invalid_request_error', 'Reader is currently offline, please ensure the reader is powered on and connected to the internet before retrying your request.', 'terminal_reader_offline');
    if (r.action?.status === 'in_progress') throw new ApiError(400, 'invalid_request_error', 'Reader is currently busy processing another request. Please reference the integration guide for more information.', 'terminal_reader_busy');
    const piId = str(p.payment_intent);
    if (!piId) throw new ApiError(400, 'invalid_request_error', 'Missing required param: payment_intent.', 'parameter_missing', 'payment_intent');
    const pi = this.intent(piId);
    if (pi.status !== 'requires_payment_method') throw new ApiError(400, 'invalid_request_error', `This PaymentIntent's status is ${pi.status}; it cannot be processed.`, 'payment_intent_unexpected_state');
    const config = map(p.process_config as Form | undefined) as unknown as { tipping?: { amount_eligible?: string }; skip_tipping?: string };
    this.tipping.set(readerId, config.skip_tipping !== 'true' && config.tipping?.amount_eligible ? Number(config.tipping.amount_eligible) : null);
    r.action = {
      api_error: null, failure_code: null, failure_message: null, status: 'in_progress', type: 'process_payment_intent',
      process_payment_intent: { payment_intent: piId, ...(config.tipping || config.skip_tipping ? { process_config: { enable_customer_cancellation: false, skip_tipping: config.skip_tipping === 'true', ...(config.tipping ? { tipping: { amount_eligible: Number(config.tipping.amount_eligible) } } : {}) } } : {}) },
    };
    return r;
  }

  private cancelAction(readerId: string): Stripe.Terminal.Reader {
    const r = this.reader(readerId);
    if (r.status === 'offline') throw new ApiError(400, 'invalid_request_error', 'Reader is currently offline, please ensure the reader is powered on and connected to the internet before retrying your request.', 'terminal_reader_offline');
    if (r.action?.status !== 'in_progress') throw new ApiError(400, 'invalid_request_error', 'This reader has no action in progress to cancel.');
    r.action = { ...r.action, status: 'failed', failure_code: 'customer_canceled', failure_message: 'This action could not be completed due to an error on the card reader.' };
    return r;
  }

  private present(readerId: string, p: Form): Stripe.Terminal.Reader {
    const r = this.reader(readerId);
    if (!r.device_type.startsWith('simulated_')) throw new ApiError(400, 'invalid_request_error', 'This endpoint is only available for simulated readers.');
    const piId = r.action?.status === 'in_progress' ? r.action.process_payment_intent?.payment_intent : undefined;
    if (!piId) throw new ApiError(400, 'invalid_request_error', 'The reader has no in-progress action to present a payment method to.');
    const pi = this.intent(typeof piId === 'string' ? piId : piId.id);
    const number = str((p.card_present as Form | undefined)?.number) ?? '4242424242424242';
    if (number === DECLINED_CARD) {
      pi.last_payment_error = { type: 'card_error', code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' };
      r.action = { ...r.action!, status: 'failed', failure_code: 'card_declined', failure_message: 'Your card was declined.' };
      return r;
    }
    const tip = this.tipping.get(readerId) ? int(p.amount_tip) ?? 0 : 0;
    const amount = pi.amount + tip;
    const manual = pi.capture_method === 'manual';
    const ch = this.charge(pi, amount, number, manual);
    Object.assign(pi, {
      amount, amount_details: { tip: tip ? { amount: tip } : {} }, latest_charge: ch.id, payment_method: `pm_${crypto.randomBytes(10).toString('hex')}`, last_payment_error: null,
      status: manual ? 'requires_capture' : 'succeeded', amount_received: manual ? 0 : amount, amount_capturable: manual ? amount : 0,
    });
    r.action = { ...r.action!, status: 'succeeded' };
    return r;
  }

  private charge(pi: Stripe.PaymentIntent, amount: number, number: string, manual: boolean): Stripe.Charge {
    const brand = number.startsWith('5') ? 'mastercard' : number.startsWith('3') ? 'amex' : 'visa';
    const ch: Stripe.Charge = {
      id: `ch_${crypto.randomBytes(12).toString('hex')}`, object: 'charge', amount, amount_captured: manual ? 0 : amount, amount_refunded: 0, application: null, application_fee: null, application_fee_amount: null,
      balance_transaction: null, billing_details: { address: null, email: null, name: null, phone: null, tax_id: null }, calculated_statement_descriptor: 'STORE', captured: !manual, created: nowSec(),
      currency: pi.currency, customer: null, description: pi.description, disputed: false, failure_balance_transaction: null, failure_code: null, failure_message: null, fraud_details: {}, livemode: false,
      metadata: {}, on_behalf_of: null, outcome: null, paid: true, payment_intent: pi.id, payment_method: null, receipt_email: null, receipt_number: null, receipt_url: null, refunded: false, review: null,
      shipping: null, source: null, source_transfer: null, statement_descriptor: null, statement_descriptor_suffix: null, status: 'succeeded', transfer_data: null, transfer_group: null,
      payment_method_details: {
        type: 'card_present',
        card_present: {
          amount_authorized: amount, brand, brand_product: null, capture_before: undefined, cardholder_name: null, country: 'US', description: null, emv_auth_data: null, exp_month: 12, exp_year: 2030,
          fingerprint: crypto.createHash('sha256').update(number).digest('hex').slice(0, 16), funding: 'credit', generated_card: null, incremental_authorization_supported: false, issuer: null,
          last4: number.slice(-4), network: brand, network_transaction_id: null, offline: null, overcapture_supported: false, preferred_locales: null, read_method: 'contactless_emv', receipt: null, wallet: undefined,
        },
      },
    };
    this.charges.set(ch.id, ch);
    return ch;
  }

  private refund(p: Form): Stripe.Refund {
    const piId = str(p.payment_intent);
    if (!piId) throw new ApiError(400, 'invalid_request_error', 'One of the following params should be provided for this request: payment_intent or charge.', 'parameter_missing', 'payment_intent');
    const pi = this.intent(piId);
    const ch = pi.latest_charge ? this.charges.get(pi.latest_charge as string) : undefined;
    if (!ch || pi.status !== 'succeeded') throw new ApiError(400, 'invalid_request_error', `This PaymentIntent does not have a successful charge to refund.`, 'charge_not_refundable');
    const left = ch.amount_captured - ch.amount_refunded;
    const amount = int(p.amount) ?? left;
    if (amount < 1 || amount > left) throw new ApiError(400, 'invalid_request_error', `Refund amount (${amount}) is greater than unrefunded amount on charge (${left})`, 'amount_too_large', 'amount');
    ch.amount_refunded += amount;
    ch.refunded = ch.amount_refunded === ch.amount_captured;
    const re: Stripe.Refund = {
      id: `re_${crypto.randomBytes(12).toString('hex')}`, object: 'refund', amount, balance_transaction: null, charge: ch.id, created: nowSec(), currency: pi.currency, customer: null, customer_account: null,
      metadata: map(p.metadata), payment_intent: pi.id, payment_method: null, reason: (str(p.reason) as Stripe.Refund.Reason | undefined) ?? null, receipt_number: null, source_transfer_reversal: null, status: 'succeeded', transfer_reversal: null,
    };
    this.refunds.set(re.id, re);
    return re;
  }

  private withCharge(pi: Stripe.PaymentIntent, expand: boolean): Stripe.PaymentIntent {
    return expand && typeof pi.latest_charge === 'string' ? { ...pi, latest_charge: this.charges.get(pi.latest_charge) ?? null } : pi;
  }

  private intent(id: string): Stripe.PaymentIntent {
    const pi = this.intents.get(id);
    if (!pi) throw new ApiError(404, 'invalid_request_error', `No such payment_intent: '${id}'`, 'resource_missing', 'intent');
    return pi;
  }

  private reader(id: string): Stripe.Terminal.Reader {
    const r = this.readers.get(id);
    if (!r) throw new ApiError(404, 'invalid_request_error', `No such terminal.reader: '${id}'`, 'resource_missing', 'id');
    return r;
  }
}

function routeOf(method: string, path: string): { route: string; id: string } {
  const m = /^\/v1\/(payment_intents|terminal\/readers|test_helpers\/terminal\/readers)\/([A-Za-z0-9_]+)(\/[a-z_]+)?$/.exec(path);
  if (m) return { route: `${method} /v1/${m[1]}/:id${m[3] ?? ''}`, id: m[2] };
  return { route: `${method} ${path}`, id: '' };
}

const nowSec = () => Math.floor(Date.now() / 1000);

/** parameters with every object's keys sorted: the same parameters in another order are the same request */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v);
}
