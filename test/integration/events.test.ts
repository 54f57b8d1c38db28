import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { bootApp, type TestApp } from '../helpers/app';
import { createTestDb, type TestDb } from '../helpers/pg';
import { counts, seedStore } from '../helpers/store';
import { createApiToken } from '../../server/api/tokens';
import type { EventMap, EventName } from '../../server/events';
import { bumpTicket, sendOrder, type KitchenDeps } from '../../server/kitchen/service';
import * as orders from '../../server/orders/service';
import { transferToTable, type CheckDeps } from '../../server/tables/checks';

const ALL: EventName[] = ['order:changed', 'order:ready', 'ticket:created', 'ticket:changed', 'floor:changed', 'product:availability', 'outbox:written'];

/**
 * Services publish on the event bus only after their transaction committed. To tell "after the
 * commit" from "just before it" without a race, the tests make the COMMIT itself fail: a deferred
 * constraint trigger refuses, at commit time, any transaction that wrote a marked order's row or
 * one of its kitchen tickets. Every statement of the service has then run; only the commit fails.
 * A service that published inside its transaction would be heard; one that publishes after the
 * commit is not.
 */
describe('events are published only after commit', function () {
  this.timeout(120_000);
  let t: TestDb;
  let app: TestApp;
  let store: Awaited<ReturnType<typeof seedStore>>;
  let heard: Array<[EventName, unknown]>;
  let deps: orders.OrderDeps & KitchenDeps & CheckDeps;

  before(async () => {
    t = await createTestDb();
    store = await seedStore(t.db);
    app = await bootApp(t.db);
    for (const name of ALL) app.events.subscribe(name, (p: EventMap[typeof name]) => void heard.push([name, p]));
    deps = { db: t.db, clock: app.clock, events: app.events };
    await t.db.raw(`
      create table commit_failures (order_id bigint primary key);
      create function fail_at_commit() returns trigger language plpgsql as $$
      begin
        if exists (select 1 from commit_failures f where f.order_id = coalesce((to_jsonb(new) ->> 'order_id')::bigint, (to_jsonb(new) ->> 'id')::bigint)) then
          raise exception 'the commit fails (test)';
        end if;
        return null;
      end $$;
      create constraint trigger orders_fail_at_commit after insert or update on orders deferrable initially deferred for each row execute function fail_at_commit();
      create constraint trigger tickets_fail_at_commit after insert or update on kitchen_tickets deferrable initially deferred for each row execute function fail_at_commit();
    `);
    // the order.paid webhook has a subscriber, so a closing sale writes outbox rows
    await t.db('webhook_subscriptions').insert({ url: 'http://127.0.0.1:9/hooks', events: ['order.paid'], secret: 'a-secret-for-the-events-test', created_at: app.clock.now() });
  });
  after(async () => {
    await app.close();
    await t.drop();
  });
  beforeEach(() => {
    heard = [];
  });

  /** what was published since the test began (a call: an assertion on it narrows nothing) */
  const told = (): Array<[EventName, unknown]> => [...heard];
  const names = () => heard.map(([n]) => n);
  const failCommitsOf = (orderId: number) => t.db('commit_failures').insert({ order_id: orderId });
  const commitAgain = (orderId: number) => t.db('commit_failures').where({ order_id: orderId }).delete();
  const version = async (orderId: number) => (await t.db('orders').where({ id: orderId }).first('version')).version as number;
  const newOrder = async (product = 'Fish & chips') => {
    const o = await orders.openOrder(deps, { type: 'dine_in' });
    await orders.addLine(deps, o.id, { productId: (await store.product(product)).id, quantity: 1, modifierIds: [], note: null });
    heard = [];
    return o.id;
  };

  it('an order change (changeOrder): nothing when the commit fails; order:changed with the committed version when it succeeds', async () => {
    const id = await newOrder();
    const before = await version(id);
    const espresso = await store.product('Espresso');
    await failCommitsOf(id);
    await assert.rejects(orders.addLine(deps, id, { productId: espresso.id, quantity: 1, modifierIds: [], note: null }), /the commit fails/);
    assert.deepEqual(told(), [], 'nothing published for a change that was not saved');
    assert.equal(await version(id), before);
    await commitAgain(id);
    await orders.addLine(deps, id, { productId: espresso.id, quantity: 1, modifierIds: [], note: null });
    assert.deepEqual(told(), [['order:changed', { orderId: id, version: before + 1 }]]);
    assert.equal(await version(id), before + 1, 'the version published is the one committed');
  });

  it('a kitchen send and a bump: nothing when the commit fails; tickets, the order and the floor when it succeeds', async () => {
    const id = await newOrder();
    await failCommitsOf(id);
    await assert.rejects(sendOrder(deps, id), /the commit fails/);
    assert.deepEqual(told(), []);
    assert.equal((await t.db('kitchen_tickets').where({ order_id: id })).length, 0);
    await commitAgain(id);
    const { tickets } = await sendOrder(deps, id);
    assert.deepEqual(names(), ['order:changed', ...tickets.map(() => 'ticket:created'), 'floor:changed']);

    heard = [];
    await failCommitsOf(id);
    await assert.rejects(bumpTicket(deps, tickets[0].ticketId), /the commit fails/);
    assert.deepEqual(told(), []);
    await commitAgain(id);
    await bumpTicket(deps, tickets[0].ticketId);
    assert.deepEqual(names(), ['outbox:written', 'ticket:changed', 'order:ready', 'floor:changed']);
  });

  it('a closing cash tender: no order:changed and no outbox:written when the commit fails, and no outbox row left', async () => {
    const id = await newOrder();
    const rows = await counts(t.db, 'outbox', 'webhook_events', 'payments');
    await failCommitsOf(id);
    await assert.rejects(orders.tenderCash(deps, id, 100_000, crypto.randomUUID()), /the commit fails/);
    assert.deepEqual(told(), []);
    assert.deepEqual(await counts(t.db, 'outbox', 'webhook_events', 'payments'), rows);
    await commitAgain(id);
    await orders.tenderCash(deps, id, 100_000, crypto.randomUUID());
    assert.deepEqual(told(), [['order:changed', { orderId: id, version: await version(id) }], ['outbox:written', { topic: 'webhook' }]]);
    assert.equal((await counts(t.db, 'outbox')).outbox, rows.outbox + 1);
  });

  it('a check moved to another table: nothing when the commit fails', async () => {
    const id = await newOrder();
    const table = await t.db('tables').where({ active: true }).whereNotExists((q) => q.select(1).from('orders').whereRaw('orders.table_id = tables.id')).first();
    await failCommitsOf(id);
    await assert.rejects(transferToTable(deps, id, table.id), /the commit fails/);
    assert.deepEqual(told(), []);
    await commitAgain(id);
    await transferToTable(deps, id, table.id);
    assert.deepEqual(names(), ['order:changed', 'floor:changed']);
  });

  it('an API payment, whose services run inside the idempotency transaction: nothing until that transaction commits', async () => {
    const { token } = await createApiToken(t.db, app.clock, { name: 'Events', scopes: ['payments:write'] });
    const id = await newOrder();
    const pay = (key: string) =>
      fetch(`${app.url}/api/v1/orders/${id}/payments`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ method: 'cash', amount: 100_000, idempotencyKey: key }),
      });
    const key = crypto.randomUUID();
    await failCommitsOf(id);
    assert.equal((await pay(key)).status, 500);
    assert.deepEqual(told(), [], 'the tender ran, but its transaction did not commit: nobody was told');
    await commitAgain(id);
    assert.equal((await pay(key)).status, 201, 'the same key runs now: nothing of the first was kept');
    assert.deepEqual(names(), ['order:changed', 'outbox:written']);
  });
});
