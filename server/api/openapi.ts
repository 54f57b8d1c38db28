import { API_SCOPES } from './tokens';
import { WEBHOOK_EVENTS } from '../webhooks/service';

/**
 * The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json. The tests check that
 * every API route is here and that every (path, method, status) below is answered as described.
 */
type Json = Record<string, unknown>;
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const int = { type: 'integer' };
const str = { type: 'string' };
const nullable = (s: Json) => ({ oneOf: [s, { type: 'null' }] });
const obj = (properties: Json, required: string[] = Object.keys(properties), extra = false) => ({ type: 'object', properties, required, additionalProperties: extra });

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: ref('Problem') } } });
const json = (description: string, schema: Json) => ({ description, content: { 'application/json': { schema } } });
const errors = {
  400: problem('Invalid input: malformed JSON, wrong types, unknown fields or values out of range (field details in `errors`).'),
  401: problem('No API token, an unknown one, or a revoked one.'),
  403: problem('The token lacks the scope this operation needs.'),
  404: problem('Not found.'),
  409: problem('Conflict with the current state (e.g. the order is already closed).'),
  413: problem('The request body is larger than 256 KiB.'),
  422: problem('Well-formed but refused: unknown or unavailable product, modifier rules, idempotency-mismatch, …'),
};
const pick = (...codes: Array<keyof typeof errors>) => Object.fromEntries(codes.map((c) => [c, errors[c]]));
const idParam = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'integer', minimum: 1 } });
const op = (summary: string, scope: string | null, responses: Json, extra: Json = {}) => ({
  summary,
  ...(scope ? { security: [{ bearer: [scope] }], 'x-scope': scope } : { security: [] }),
  responses,
  ...extra,
});
const body = (schema: Json) => ({ requestBody: { required: true, content: { 'application/json': { schema } } } });

const productProps = {
  id: int, name: str, categoryId: int, price: { ...int, description: 'minor units' }, taxRateId: int, sku: nullable(str),
  barcodes: { type: 'array', items: str }, stationId: nullable(int), active: { type: 'boolean' }, available: { type: 'boolean' }, openPrice: { type: 'boolean' },
};
const scannerInput = {
  name: { type: 'string', minLength: 1, maxLength: 80 }, kind: { enum: ['hid', 'simulated'], description: 'hid: a USB scanner; simulated: the simulator (demos)' },
  vendorId: nullable({ type: 'integer', minimum: 0, maximum: 65535 }), productId: nullable({ type: 'integer', minimum: 0, maximum: 65535 }),
  path: nullable({ type: 'string', maxLength: 300, description: 'the device path (/dev/hidrawN), to tell two scanners of one model apart' }),
  terminalId: nullable({ ...int, description: 'the terminal whose open order its scans go to; null: scans are dropped' }), enabled: { type: 'boolean' },
};
const printerInput = {
  name: { type: 'string', minLength: 1, maxLength: 60 },
  address: { type: 'string', description: 'host:port of an ESC/POS network printer (port 9100 when left out), or "simulator": writes its prints under DATA_DIR/prints' },
  paperWidth: { enum: [58, 80] }, codePage: { type: 'integer', description: 'the printer\'s ESC t number of its code page: 19 is PC858 (with €) on Epson\'s table' },
  acknowledgement: { type: 'boolean', description: 'a job counts as printed when the printer answers GS r 1 after it (true), or on write (false: for a printer that cannot answer)' },
  fallbackPrinterId: nullable(int), failoverAfterSeconds: { type: 'integer', minimum: 5, maximum: 86400 },
};
const printerProps = {
  id: int, ...printerInput, columns: { enum: [32, 42, 48] }, stationIds: { type: 'array', items: int }, terminalIds: { type: 'array', items: int },
  downSince: nullable({ ...str, description: 'failing since (its jobs fail over to the fallback after failoverAfterSeconds)' }), lastError: nullable(str),
  waiting: { ...int, description: 'jobs queued, not printed yet' },
};
const webhookProps = { id: int, url: str, events: { type: 'array', items: { enum: [...WEBHOOK_EVENTS] } }, active: { type: 'boolean' }, createdAt: str };

const schemas: Json = {
  Problem: obj(
    {
      type: str, title: str, status: int,
      errors: { type: 'array', items: obj({ field: str, message: str }) },
    },
    ['type', 'title', 'status'],
    true,
  ),
  ModifierGroup: obj({
    id: int, name: str, min: int, max: int, required: { type: 'boolean' },
    modifiers: { type: 'array', items: obj({ id: int, name: str, priceDelta: int }) },
  }),
  Product: obj(productProps),
  // the back office's product as the API writes it (issue 24): catalog:write
  ProductInput: {
    type: 'object', additionalProperties: false,
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 80 }, categoryId: int, price: { type: 'integer', minimum: 0, description: 'minor units' }, taxRateId: int,
      taxRates: { type: 'object', additionalProperties: false, properties: { counter: nullable(int), takeaway: nullable(int), dine_in: nullable(int) }, description: 'the tax rate for an order type where the law differs from the product\'s own (null: its own); an open order changing type is taxed again' },
      sku: nullable({ type: 'string', maxLength: 40 }), barcodes: { type: 'array', items: str }, stationId: nullable(int), modifierGroupIds: { type: 'array', items: int },
      available: { type: 'boolean' }, openPrice: { type: 'boolean' }, active: { type: 'boolean' }, position: int,
      trackStock: { type: 'boolean', description: 'count its stock (sales take from it; set it with /inventory/adjustments)' }, lowStockAt: nullable(int),
    },
    description: 'Create: name, categoryId, price and taxRateId are required. Update: only the fields given change. A new price applies to lines added after it.',
  },
  ProductWritten: obj({
    id: int, name: str, categoryId: int, price: int, taxRateId: int, taxRates: obj({ counter: nullable(int), takeaway: nullable(int), dine_in: nullable(int) }),
    sku: nullable(str), barcodes: { type: 'array', items: str }, stationId: nullable(int), modifierGroupIds: { type: 'array', items: int },
    available: { type: 'boolean' }, openPrice: { type: 'boolean' }, active: { type: 'boolean' }, position: int, stock: nullable(int), lowStockAt: nullable(int),
  }),
  StockAdjustment: obj({ id: int, productId: int, reason: { enum: ['received', 'waste', 'count'] }, delta: int, stockAfter: int, note: nullable(str), createdAt: str }),
  ProductDetail: obj({ ...productProps, modifierGroups: { type: 'array', items: ref('ModifierGroup') } }),
  Line: obj({
    id: int, productId: int, name: str, quantity: int, unitPrice: int,
    modifiers: { type: 'array', items: obj({ id: int, group: str, name: str, priceDelta: int }) },
    note: nullable(str), gross: int, discount: int, refundedQuantity: int,
  }),
  Order: obj({
    id: int, number: int, businessDate: str, type: { enum: ['counter', 'takeaway', 'dine_in'] }, status: { enum: ['open', 'paid', 'voided'] },
    parked: { type: 'boolean' }, customerName: nullable(str), tableId: nullable(int), currency: str, pricesIncludeTax: { type: 'boolean' },
    lines: { type: 'array', items: ref('Line') }, subtotal: int, discountTotal: int,
    taxes: { type: 'array', items: obj({ name: str, ratePpm: int, base: int, tax: int }) },
    taxTotal: int, total: int, paidTotal: int, due: int, receiptNo: nullable(int), journalSeq: nullable(int), voidReason: nullable(str),
    createdAt: str, closedAt: nullable(str),
  }),
  LineInput: {
    type: 'object', additionalProperties: false, required: ['qty'],
    properties: {
      productId: int, sku: str, qty: { type: 'integer', minimum: 1, maximum: 999 },
      modifierIds: { type: 'array', items: int }, note: nullable({ type: 'string', maxLength: 500 }),
    },
    description: 'Exactly one of productId or sku.',
  },
  Payment: obj({
    id: int, orderId: int, method: { enum: ['cash', 'card'] },
    status: { enum: ['pending', 'succeeded', 'failed', 'canceled'], description: 'a card payment is pending until Stripe settles it; only succeeded counts as paid' },
    card: nullable(obj({ brand: nullable(str), last4: nullable(str), paymentIntent: nullable(str), failureMessage: nullable(str) })),
    amount: int, tendered: int, change: int, tip: int,
    orderStatus: { enum: ['open', 'paid', 'voided'] }, receiptNo: nullable(int), createdAt: str,
  }),
  Refund: obj({ id: int, orderId: int, paymentId: int, total: int, taxTotal: int, receiptNo: nullable(int), reason: str, createdAt: str }, undefined, true),
  JournalEntry: {
    type: 'object', additionalProperties: true, required: ['seq', 'kind', 'at', 'prev_hash', 'hash', 'grand_totals'],
    properties: {
      seq: int, kind: { enum: ['sale', 'refund', 'void', 'paid_in', 'paid_out', 'no_sale', 'z_closure'] }, at: str, business_date: { type: 'string', format: 'date', description: 'the business date the entry counts on (entries written before it existed lack it)' }, prev_hash: { type: 'string', pattern: '^[0-9a-f]{64}$' },
      hash: { type: 'string', pattern: '^[0-9a-f]{64}$' }, receipt_no: int, grand_totals: obj({ sales: int, refunds: int, voids: int }),
    },
    description: 'hash = hex(SHA-256(prev_hash + RFC 8785 canonical JSON of the entry without hash)).',
  },
  SalesReport: obj({ from: str, to: str, summary: ref('SalesSummary'), previous: ref('SalesSummary') }),
  SalesSummary: obj({
    range: obj({ from: str, to: str }), checks: int, covers: int, gross: { ...int, description: 'minor units, before discounts' }, discounts: int, salesTotal: int,
    refunds: obj({ count: int, total: int }), voids: obj({ count: int, total: int }), net: { ...int, description: 'sales total less refunds' }, tax: int,
    taxes: { type: 'array', items: obj({ name: str, ppm: int, net: int, tax: int }) }, tips: int,
    tenders: { type: 'array', items: obj({ method: str, count: int, amount: int, tips: int, refunded: int }) }, averageCheck: int,
  }),
  Scanner: obj({
    id: int, ...scannerInput,
    state: { enum: ['open', 'waiting', 'off', 'disabled', 'stopped'], description: 'open: reading; waiting: not plugged in, or its device node is not readable; off: USB scanner support did not load on the server' },
    detail: nullable({ type: 'string', description: 'what the server last found about the device (not connected, its device node not readable and the udev rule to install, …)' }),
  }),
  Printer: obj(printerProps),
  PrinterDetail: obj({
    ...printerProps,
    status: nullable(obj({
      state: { enum: ['ready', 'paper-low', 'paper-out', 'cover-open', 'offline', 'error', 'busy', 'not-answering', 'unreachable'] }, label: str,
      flags: nullable({ type: 'object', description: 'the DLE EOT flags: online, coverOpen, paperNearEnd, paperOut, drawerOpen, error' }),
    })),
    queue: obj({ waiting: { type: 'array', items: ref('PrintJob') }, recent: { type: 'array', items: ref('PrintJob'), description: 'the last printed, newest first' } }),
  }),
  PrintJob: obj({
    id: int, kind: { enum: ['receipt', 'kitchen', 'guest-check', 'refund', 'test', 'drawer', 'day-report'] }, state: { enum: ['queued', 'sending', 'printed'] },
    possibleDuplicate: { type: 'boolean', description: 'it may have printed before (in flight at a crash, or unconfirmed): its print says POSSIBLE DUPLICATE' },
    orderId: nullable(int), reprintOf: nullable(int), attempts: int, lastError: nullable(str), printedOn: nullable({ ...int, description: 'the printer it came out of (its fallback after a failover)' }),
    createdAt: str, printedAt: nullable(str),
  }),
  Webhook: obj(webhookProps),
  WebhookCreated: obj({ ...webhookProps, secret: str }),
  LedgerStatus: obj({
    enabled: { type: 'boolean', description: 'the ledger URL and store id are set: the journal is shipped' }, url: str, storeId: str,
    secretSet: { type: 'boolean', description: 'a store secret is set (it is never shown)' },
    journalHead: int, ackedThrough: { ...int, description: 'the ledger holds the journal up to this seq' }, backlog: { ...int, description: 'entries not yet acknowledged' },
    oldestUnshippedAt: nullable(str), oldestAgeSeconds: nullable(int), backlogAlert: { type: 'boolean', description: 'the oldest unshipped entry is older than the alert setting' },
    lastSuccessAt: nullable(str), lastError: nullable(str), lastErrorAt: nullable(str), failing: { type: 'boolean' }, failures: { ...int, description: 'failed attempts in a row' },
    nextAttemptAt: nullable(str), headCheckedAt: nullable(str),
    fork: nullable(obj({ atSeq: int, error: str, at: str })),
    restorePending: { type: 'boolean', description: 'a start after a restore waits to compare with the ledger before a sale may close' },
  }),
  Backup: obj({
    name: { ...str, description: 'the file in DATA_DIR/backups (pg_dump custom format; `store-server restore FILE` brings it back)' }, bytes: int, createdAt: str,
    copied: { type: 'boolean', description: 'the second backup folder holds it whole (false while none is set)' },
  }),
  Delivery: obj({
    id: int, eventId: str, type: str, sequence: int, state: { enum: ['pending', 'delivered'] }, attempts: int, nextAttemptAt: str,
    deliveredAt: nullable(str), lastStatus: nullable(int), lastError: nullable(str),
  }),
};

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Store server API',
    version: '1',
    description:
      'JSON over the same services as the terminals. Money is integer minor units of the store currency. ' +
      'Writes that move money take an idempotencyKey: the same key and body return the first answer (header Idempotent-Replayed), ' +
      'another body with the same key is 422 idempotency-mismatch. A key is recorded with its answer in the transaction of the write, ' +
      'so after a lost answer a retry gets the first answer if the write was made, or makes it now; a duplicate sent while the ' +
      'first is running waits for it. Keys are kept 24 hours; after that the same key is a new request. ' +
      'Errors are RFC 9457 problem+json with a stable `type`. ' +
      'Tokens are rate-limited (429). Webhooks are POSTed as JSON with X-Webhook-Id, X-Webhook-Event, X-Webhook-Sequence and ' +
      'X-Webhook-Signature: sha256=<hex HMAC-SHA256 of the body keyed with the subscription secret>. ' +
      'A webhook goes only to a public address: its name is resolved at every delivery, which is refused (and logged as a failed attempt) ' +
      'when any address is loopback, private, link-local, multicast or unspecified, unless the store runs with the lab setting ' +
      '"Allow webhooks to private and loopback addresses (for testing only)". Redirects are not followed: a 3xx is a failed attempt.',
  },
  servers: [{ url: '/api/v1' }],
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: `Scopes: ${API_SCOPES.join(', ')}` } },
    schemas,
  },
  paths: {
    '/openapi.json': { get: op('This document', null, { 200: json('The OpenAPI document', { type: 'object' }) }) },
    '/products': {
      get: op('List sellable products', 'catalog:read', { 200: json('Products', obj({ items: { type: 'array', items: ref('Product') } })), ...pick(400, 401, 403) }, {
        parameters: [
          { name: 'category', in: 'query', schema: int }, { name: 'sku', in: 'query', schema: str },
          { name: 'barcode', in: 'query', schema: str }, { name: 'available', in: 'query', schema: { enum: ['true', 'false'] } },
        ],
      }),
      post: op('Create a product; audited, terminals see it at once', 'catalog:write', { 201: json('The product', ref('ProductWritten')), ...pick(400, 401, 403) }, body(ref('ProductInput'))),
    },
    '/products/{id}': {
      get: op('A product with its modifier groups', 'catalog:read', { 200: json('The product', ref('ProductDetail')), ...pick(401, 403, 404) }, { parameters: [idParam('id')] }),
      patch: op('Change a product (only the fields given); audited, terminals see it at once', 'catalog:write', { 200: json('The product', ref('ProductWritten')), ...pick(400, 401, 403, 404) }, { parameters: [idParam('id')], ...body(ref('ProductInput')) }),
    },
    '/inventory/adjustments': {
      post: op('A stock adjustment: received (adds), waste (takes off) or a count (sets); a retried idempotencyKey counts once', 'inventory:write', { 201: json('The adjustment', ref('StockAdjustment')), ...pick(400, 401, 403, 404, 409, 422) },
        body({
          type: 'object', additionalProperties: false, required: ['productId', 'reason', 'quantity', 'idempotencyKey'],
          properties: { productId: int, reason: { enum: ['received', 'waste', 'count'] }, quantity: { type: 'integer', minimum: 0 }, note: nullable({ type: 'string', maxLength: 200 }), idempotencyKey: { type: 'string', pattern: '^[A-Za-z0-9_-]{8,100}$' } },
        })),
    },
    '/orders': {
      post: op('Open an order, optionally with lines, in one step: all or nothing (a refused one may skip an order number)', 'orders:write', { 201: json('The order with its totals', ref('Order')), ...pick(400, 401, 403, 413, 422) },
        body({
          type: 'object', additionalProperties: false, required: ['type', 'idempotencyKey'],
          properties: {
            type: { enum: ['counter', 'takeaway', 'dine_in'] }, tableId: nullable(int), customerName: nullable(str),
            lines: { type: 'array', items: ref('LineInput') }, idempotencyKey: { type: 'string', pattern: '^[A-Za-z0-9_-]{8,100}$' },
          },
        })),
    },
    '/orders/{id}': { get: op('An order', 'orders:write', { 200: json('The order', ref('Order')), ...pick(401, 403, 404) }, { parameters: [idParam('id')] }) },
    '/orders/{id}/lines': {
      post: op('Add a line', 'orders:write', { 200: json('The order', ref('Order')), ...pick(400, 401, 403, 404, 409, 422) }, { parameters: [idParam('id')], ...body(ref('LineInput')) }),
    },
    '/orders/{id}/send': {
      post: op('Send what changed to the kitchen stations (held courses stay back)', 'orders:write', {
        200: json('The order and the tickets this send made (none when nothing changed)', obj({ order: ref('Order'), tickets: { type: 'array', items: obj({ id: int, stationId: int }) } })),
        ...pick(401, 403, 404, 409),
      }, { parameters: [idParam('id')] }),
    },
    '/orders/{id}/void': {
      post: op('Void an unpaid order', 'orders:write', { 200: json('The voided order', ref('Order')), ...pick(400, 401, 403, 404, 409) },
        { parameters: [idParam('id')], ...body(obj({ reason: { type: 'string', minLength: 3, maxLength: 200 } })) }),
    },
    '/orders/{id}/payments': {
      post: op('Take a cash payment, or a card payment on a Stripe Terminal reader (202: pending; follow it with GET /payments/{id})', 'payments:write', {
        201: json('The payment', ref('Payment')), 202: json('The card payment, pending: the reader waits for the card', ref('Payment')), ...pick(400, 401, 403, 404, 409, 422),
      }, {
        parameters: [idParam('id')],
        ...body({
          oneOf: [
            obj({ method: { enum: ['cash'] }, amount: { type: 'integer', minimum: 1 }, tip: { type: 'integer', minimum: 0 }, idempotencyKey: str }, ['method', 'amount', 'idempotencyKey']),
            obj({ method: { enum: ['card'] }, amount: { type: 'integer', minimum: 1 }, tip: { type: 'integer', minimum: 0 }, tipOnReader: { type: 'boolean' }, readerId: int, idempotencyKey: str }, ['method', 'amount', 'readerId', 'idempotencyKey']),
          ],
        }),
      }),
    },
    '/payments/{id}/cancel': {
      post: op('Cancel a pending card payment: the reader action, then the PaymentIntent (a late tap is recorded as paid instead)', 'payments:write', { 200: json('The payment', ref('Payment')), ...pick(401, 403, 404, 422) }, { parameters: [idParam('id')] }),
    },
    '/payments/{id}': { get: op('A payment', 'payments:write', { 200: json('The payment', ref('Payment')), ...pick(401, 403, 404) }, { parameters: [idParam('id')] }) },
    '/payments/{id}/refunds': {
      post: op('Refund the sale a payment paid: whole, by line, or an amount (spread over its lines; at most what is still refundable)', 'payments:write', { 201: json('The refund', ref('Refund')), ...pick(400, 401, 403, 404, 409, 422) }, {
        parameters: [idParam('id')],
        ...body(obj({
          reason: str, idempotencyKey: str, lines: { type: 'array', items: obj({ lineId: int, qty: int }) },
          amount: { type: 'integer', minimum: 1, description: 'minor units; instead of lines' },
        }, ['reason', 'idempotencyKey'])),
      }),
    },
    '/journal': {
      get: op('Journal entries after a seq, with their hashes', 'journal:read', {
        200: json('A page of entries', obj({ entries: { type: 'array', items: ref('JournalEntry') }, nextAfterSeq: int })), ...pick(400, 401, 403),
      }, { parameters: [{ name: 'afterSeq', in: 'query', schema: { type: 'integer', minimum: 0 } }, { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000 } }] }),
    },
    '/scanners': {
      get: op('USB barcode scanners bound to terminals, and the HID devices plugged in that could be one', 'devices:admin', {
        200: json('Bindings with their live state', obj({
          items: { type: 'array', items: ref('Scanner') },
          detected: { type: 'array', items: obj({ vendorId: int, productId: int, path: str, product: nullable(str), manufacturer: nullable(str) }) },
          feature: { enum: ['on', 'off', 'stopped'], description: 'off: USB scanner support could not load on the server (see its log)' },
        })),
        ...pick(401, 403),
      }),
      post: op('Bind a scanner to a terminal: by vendorId and productId, or by path; a scan adds the product with that barcode to the terminal\'s open order', 'devices:admin', {
        201: json('The binding', ref('Scanner')), ...pick(400, 401, 403, 422),
      }, body({ type: 'object', additionalProperties: false, required: ['name'], properties: scannerInput })),
    },
    '/scanners/{id}': {
      get: op('A scanner binding', 'devices:admin', { 200: json('The binding', ref('Scanner')), ...pick(401, 403, 404) }, { parameters: [idParam('id')] }),
      patch: op('Change a binding: its terminal, enabled, name or device', 'devices:admin', { 200: json('The binding', ref('Scanner')), ...pick(400, 401, 403, 404, 422) },
        { parameters: [idParam('id')], ...body({ type: 'object', additionalProperties: false, properties: scannerInput }) }),
      delete: op('Remove a binding', 'devices:admin', { 204: { description: 'Removed' }, ...pick(401, 403, 404) }, { parameters: [idParam('id')] }),
    },
    '/printers': {
      get: op('Printers with their routes and how they are doing', 'devices:admin', { 200: json('Printers', obj({ items: { type: 'array', items: ref('Printer') } })), ...pick(401, 403) }),
      post: op('Add a printer: its address, paper, code page, the kitchen stations it prints for, the terminals whose receipts it prints, its fallback', 'devices:admin', {
        201: json('The printer', ref('Printer')), ...pick(400, 401, 403), 409: problem('There is a printer with that name already.'),
      }, body({
        type: 'object', additionalProperties: false, required: ['name', 'address'],
        properties: { ...printerInput, columns: { enum: [32, 42, 48], description: '32 on 58 mm; 42 or 48 on 80 mm (48 when left out)' }, stationIds: { type: 'array', items: int }, terminalIds: { type: 'array', items: int } },
      })),
    },
    '/printers/{id}': {
      get: op('A printer with its live status (asked now: DLE EOT) and its queue', 'devices:admin', {
        200: json('The printer', ref('PrinterDetail')),
        ...pick(401, 403, 404),
      }, { parameters: [idParam('id')] }),
      patch: op('Change a printer: any of its fields; stationIds and terminalIds, when given, become exactly those', 'devices:admin', {
        200: json('The printer', ref('Printer')), ...pick(400, 401, 403, 404),
      }, { parameters: [idParam('id')], ...body({ type: 'object', additionalProperties: false, properties: { ...printerInput, columns: { enum: [32, 42, 48] }, stationIds: { type: 'array', items: int }, terminalIds: { type: 'array', items: int } } }) }),
    },
    '/printers/{id}/test': {
      post: op('Queue a test page on the printer (it prints after the jobs before it)', 'devices:admin', { 202: json('Queued', obj({ jobId: int })), ...pick(401, 403, 404) }, { parameters: [idParam('id')] }),
    },
    '/webhooks': {
      get: op('Webhook subscriptions', 'webhooks:admin', { 200: json('Subscriptions', obj({ items: { type: 'array', items: ref('Webhook') } })), ...pick(401, 403) }),
      post: op('Subscribe a URL to events', 'webhooks:admin', {
        201: json('The subscription and its signing secret (shown once)', ref('WebhookCreated')),
        400: problem('Invalid input, or a URL that is not http(s), carries credentials, or whose host is localhost or a literal loopback, private, ' +
          'link-local, multicast or unspecified address (refused unless the lab setting is on; the title says why). A name is not resolved here.'),
        ...pick(401, 403),
      }, body(obj({ url: str, events: { type: 'array', items: { enum: [...WEBHOOK_EVENTS] } }, secret: str }, ['url', 'events']))),
    },
    '/webhooks/{id}': { delete: op('Delete a subscription', 'webhooks:admin', { 204: { description: 'Deleted' }, ...pick(401, 403, 404) }, { parameters: [idParam('id')] }) },
    '/reports/sales/daily': {
      get: op('The sales summary of a business day (or a range of them) and of the period before, as long', 'reports:read', { 200: json('The summary', ref('SalesReport')), ...pick(400, 401, 403) }, {
        parameters: ['date', 'from', 'to'].map((name) => ({ name, in: 'query', schema: { type: 'string', format: 'date' }, description: name === 'date' ? 'one business day (default: the open one)' : 'a range of business days, both included (at most 400)' })),
      }),
    },
    '/ledger/status': {
      get: op('Shipping the journal to the cloud ledger: backlog, last success and error, next attempt, a fork', 'ledger:admin', { 200: json('The status', ref('LedgerStatus')), ...pick(401, 403) }),
    },
    '/ledger/ship': {
      post: op('Ship now: one cycle at once, whatever the backoff says (answers when it ends, or after 10 s with the status as it stands)', 'ledger:admin', { 200: json('The status after the cycle', ref('LedgerStatus')), ...pick(401, 403) }),
    },
    '/backups': {
      get: op('The database backups kept, newest first, and whether each is in the second backup folder', 'backups:admin', {
        200: json('The backups', obj({
          dir: str, copyDir: nullable({ ...str, description: 'the second backup folder (a USB stick, a network share); null: none set' }),
          available: { type: 'boolean', description: 'this server can make backups itself (it knows its database\'s address)' },
          lastError: nullable(obj({ at: str, message: str })), items: { type: 'array', items: ref('Backup') },
        })),
        ...pick(401, 403),
      }),
      post: op('Back the database up now (pg_dump), copied to the second folder when one is set, the oldest beyond the retention removed; a retried idempotencyKey makes none and answers the first', 'backups:admin', {
        201: json('The backup', obj({ ...(schemas.Backup as { properties: Json }).properties, copyError: nullable({ ...str, description: 'the backup is made, but its second copy failed: why' }), pruned: { type: 'array', items: str } })),
        ...pick(400, 401, 403),
        503: problem('No backup was made: pg_dump is not installed (backup-tool-missing: the title names the package), this server does not know its database\'s address (backups-unavailable), or pg_dump failed (backup-failed: its complaint).'),
      }, body(obj({ idempotencyKey: { type: 'string', pattern: '^[A-Za-z0-9_-]{8,100}$' } }))),
    },
    '/webhooks/{id}/deliveries': {
      get: op('The delivery log of a subscription', 'webhooks:admin', { 200: json('Deliveries, newest first', obj({ items: { type: 'array', items: ref('Delivery') } })), ...pick(401, 403, 404) }, { parameters: [idParam('id')] }),
    },
  },
};
