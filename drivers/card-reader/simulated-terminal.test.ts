import assert from 'node:assert/strict';
import { CardError } from './card-terminal';
import { SimulatedTerminal } from './simulated-terminal';

/** The demo's card reader: what the server's card flow relies on, without a Stripe account. */
describe('the simulated card terminal', () => {
  const request = { amount: 1000, currency: 'eur', capture_method: 'automatic' as const, description: 'Order 1', metadata: { order_id: '1' } };

  it('replays a create with the same key and refuses the key with other parameters', async () => {
    const sim = new SimulatedTerminal({ tapAfterMs: 0 });
    const a = await sim.createIntent(request, 'k1');
    assert.equal((await sim.createIntent(request, 'k1')).id, a.id);
    await assert.rejects(sim.createIntent({ ...request, amount: 999 }, 'k1'), (e: unknown) => e instanceof CardError && e.kind === 'idempotency');
  });

  it('taps by itself after the wait on the injected clock, with a tip chosen on the reader', async () => {
    let now = 0;
    const sim = new SimulatedTerminal({ now: () => now, tapAfterMs: 3000 });
    const reader = await sim.registerReader('any-code', 'Demo');
    const pi = await sim.createIntent(request, 'k2');
    await sim.processIntent(reader.id, pi.id, { eligibleAmount: 1000 });
    assert.equal((await sim.retrieveIntent(pi.id)).status, 'requires_payment_method');
    now = 3000;
    const done = await sim.retrieveIntent(pi.id);
    assert.deepEqual([done.status, done.brand, done.last4], ['succeeded', 'visa', '4242']);
    await assert.rejects(sim.cancelIntent(pi.id), (e: unknown) => e instanceof CardError && e.kind === 'unexpected-state');
  });

  it('declines Stripe\'s declined test card; cancel stops a waiting reader', async () => {
    const sim = new SimulatedTerminal({ tapAfterMs: 0 });
    const reader = await sim.registerReader('code', 'Demo');
    const pi = await sim.createIntent(request, 'k3');
    await sim.processIntent(reader.id, pi.id);
    const declined = await sim.presentCard(reader.id, { number: '4000000000000002' });
    assert.deepEqual([declined.action?.status, declined.action?.failureCode], ['failed', 'card_declined']);
    const again = await sim.createIntent(request, 'k4');
    await sim.processIntent(reader.id, again.id);
    assert.equal((await sim.cancelReaderAction(reader.id)).action?.status, 'failed');
    assert.equal((await sim.cancelIntent(again.id)).status, 'canceled');
  });
});
