import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { StripeFake } from './stripe-api';
import { StripeTerminal } from '../../drivers/card-reader/stripe-terminal';
import { CardError } from '../../drivers/card-reader/card-terminal';

/** The Stripe fake, driven by the real stripe SDK: the shapes and rules the store relies on. */
describe('the Stripe API fake, through the real stripe SDK', function () {
  let fake: StripeFake;
  let stripe: Stripe;
  before(async () => {
    fake = await new StripeFake().start();
    stripe = new Stripe(fake.secretKey, { host: '127.0.0.1', port: fake.port, protocol: 'http', maxNetworkRetries: 0, telemetry: false });
  });
  after(() => fake.close());

  const create = (amount: number, key: string) =>
    stripe.paymentIntents.create({ amount, currency: 'eur', allowed_payment_method_types: ['card_present'], capture_method: 'automatic', metadata: { order_id: '7' } }, { idempotencyKey: key });

  it('replays a create with the same key and parameters: the same PaymentIntent, marked replayed', async () => {
    const a = await create(1250, 'k-replay');
    const b = await create(1250, 'k-replay');
    assert.equal(a.id, b.id);
    assert.equal(a.status, 'requires_payment_method');
    assert.deepEqual(a.payment_method_types, ['card_present']);
    assert.equal(b.lastResponse.headers['idempotent-replayed'], 'true');
    assert.equal(fake.intentsFor('order_id', '7').length, 1);
  });

  it('refuses the same key with other parameters with Stripe\'s idempotency error', async () => {
    await create(500, 'k-other');
    await assert.rejects(create(501, 'k-other'), (err: unknown) => err instanceof Stripe.errors.StripeIdempotencyError && /same parameters/.test(err.message));
  });

  it('refuses a parameter it does not know, naming it, as Stripe does', async () => {
    const params = { amount: 100, currency: 'eur', surprise: 'x' } as unknown as Stripe.PaymentIntentCreateParams;
    await assert.rejects(stripe.paymentIntents.create(params), (err: unknown) => err instanceof Stripe.errors.StripeInvalidRequestError && err.code === 'parameter_unknown' && err.param === 'surprise');
  });

  it('refuses a wrong key with an authentication error', async () => {
    const other = new Stripe('rk_test_wrong', { host: '127.0.0.1', port: fake.port, protocol: 'http', maxNetworkRetries: 0 });
    await assert.rejects(other.paymentIntents.retrieve('pi_x'), (err: unknown) => err instanceof Stripe.errors.StripeAuthenticationError);
  });

  it('processes an intent on a reader: in progress until the customer taps, then succeeded with brand and last4 on the expanded charge', async () => {
    const reader = await stripe.terminal.readers.create({ registration_code: 'simulated-wpe', label: 'Till 1' });
    assert.equal(reader.device_type, 'simulated_wisepos_e');
    const pi = await create(900, 'k-process');
    const busy = await stripe.terminal.readers.processPaymentIntent(reader.id, { payment_intent: pi.id, process_config: { tipping: { amount_eligible: 900 } } });
    assert.equal(busy.action?.status, 'in_progress');
    assert.equal((await stripe.paymentIntents.retrieve(pi.id)).status, 'requires_payment_method');
    const tapped = await stripe.testHelpers.terminal.readers.presentPaymentMethod(reader.id, { type: 'card_present', amount_tip: 100 });
    assert.equal(tapped.action?.status, 'succeeded');
    const done = await stripe.paymentIntents.retrieve(pi.id, { expand: ['latest_charge'] });
    assert.equal(done.status, 'succeeded');
    assert.equal(done.amount, 1000);
    assert.equal(done.amount_details?.tip?.amount, 100);
    const charge = done.latest_charge as Stripe.Charge;
    assert.equal(charge.payment_method_details?.card_present?.last4, '4242');
    assert.equal(charge.payment_method_details?.card_present?.brand, 'visa');
    const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 400 }, { idempotencyKey: 'k-refund' });
    assert.equal(refund.status, 'succeeded');
    await assert.rejects(stripe.refunds.create({ payment_intent: pi.id, amount: 601 }), (err: unknown) => err instanceof Stripe.errors.StripeInvalidRequestError && err.code === 'amount_too_large');
  });

  it('declines Stripe\'s declined test card; an offline reader refuses; cancel of a succeeded intent is an unexpected state', async () => {
    const reader = fake.addReader();
    const pi = await create(300, 'k-decline');
    await stripe.terminal.readers.processPaymentIntent(reader.id, { payment_intent: pi.id });
    const declined = fake.tap(reader.id, { number: '4000000000000002' });
    assert.equal(declined.action?.status, 'failed');
    assert.equal(declined.action?.failure_code, 'card_declined');
    assert.equal((await stripe.paymentIntents.retrieve(pi.id)).last_payment_error?.code, 'card_declined');
    fake.setReaderStatus(reader.id, 'offline');
    const driver = new StripeTerminal({ secretKey: fake.secretKey, apiBase: fake.url });
    await assert.rejects(driver.processIntent(reader.id, pi.id), (err: unknown) => err instanceof CardError && err.kind === 'reader-offline');
    fake.setReaderStatus(reader.id, 'online');
    await driver.processIntent(reader.id, pi.id);
    fake.tap(reader.id);
    await assert.rejects(driver.cancelIntent(pi.id), (err: unknown) => err instanceof CardError && err.kind === 'unexpected-state');
    const state = await driver.retrieveIntent(pi.id);
    assert.deepEqual([state.status, state.brand, state.last4], ['succeeded', 'visa', '4242']);
  });

  it('is unreachable once closed: the driver says so', async () => {
    const gone = await new StripeFake().start();
    const driver = new StripeTerminal({ secretKey: gone.secretKey, apiBase: gone.url });
    await gone.close();
    await assert.rejects(driver.retrieveIntent('pi_x'), (err: unknown) => err instanceof CardError && err.kind === 'unreachable');
  });
});
