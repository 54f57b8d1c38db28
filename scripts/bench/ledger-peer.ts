/**
 * The fake cloud ledger (test/fakes/ledger-receiver.ts) as a process of its own, for the ledger
 * catch-up figure (./ledger.ts): its verification of every hash then runs beside the store's
 * shipper instead of taking turns with it on one core, as a real ledger would.
 * Started with fork(); the store secret comes in LEDGER_PEER_SECRET; answers 'count' and 'stop'.
 */
import { LedgerReceiver } from '../../test/fakes/ledger-receiver';

const r = new LedgerReceiver();
r.secret = process.env.LEDGER_PEER_SECRET ?? '';
r.start().then((url) => process.send!({ url, storeId: r.storeId }));
process.on('message', (m) => {
  if (m === 'count') process.send!({ held: r.held.length, batches: r.requests.length, bytes: r.requests.reduce((s, q) => s + q.body.length, 0), statuses: r.statuses });
  if (m === 'stop') void r.stop().then(() => process.exit(0));
});
process.on('disconnect', () => process.exit(0));
