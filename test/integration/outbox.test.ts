import assert from 'node:assert/strict';
import { FakeClock } from '../helpers/clock';
import { createTestDb, type TestDb } from '../helpers/pg';
import { testLog } from '../helpers/log';
import { until } from '../helpers/wait';
import { createEventBus } from '../../server/events';
import { enqueue, type OutboxRow } from '../../server/outbox/outbox';
import { backoffMs, OutboxWorker, type Attempt, type TopicHandler } from '../../server/outbox/worker';

/** A topic that records what it is asked to deliver, and refuses the names it is told to. */
class RecordingTopic implements TopicHandler {
  attempted: string[] = [];
  delivered: string[] = [];
  refuse = new Set<string>();
  async deliver(row: OutboxRow): Promise<Attempt> {
    const name = String(row.payload.name);
    this.attempted.push(name);
    if (this.refuse.has(name)) return { error: `refused ${name}` };
    this.delivered.push(name);
    return { error: null };
  }
}

describe('the outbox (server/outbox/)', function () {
  this.timeout(60_000);
  let t: TestDb;
  let clock: FakeClock;
  let topic: RecordingTopic;
  let worker: OutboxWorker;
  const events = createEventBus(testLog);

  before(async () => {
    t = await createTestDb({ poolMax: 6 });
  });
  after(() => t.drop());
  beforeEach(async () => {
    await t.db('outbox').delete();
    clock = new FakeClock();
    topic = new RecordingTopic();
    // no poll in these tests (an hour): only a wake or an explicit tick makes the worker look;
    // jitter pinned to the middle, so a backoff is exactly 1 s, 2 s, 4 s …
    worker = new OutboxWorker({ db: t.db, clock, log: testLog, pollMs: 3600_000, topics: { test: topic }, random: () => 0.5 });
  });
  afterEach(() => worker.stop());

  const write = (rows: Array<[key: string, name: string]>) =>
    t.db.transaction((trx) => enqueue(trx, clock, rows.map(([key, name]) => ({ topic: 'test', key, payload: { name } }))));
  const look = async () => {
    await worker.tick();
    await worker.idle();
  };
  const row = (name: string): Promise<OutboxRow> => t.db('outbox').whereRaw("payload ->> 'name' = ?", [name]).first();

  it('never delivers a row whose transaction rolled back', async () => {
    await assert.rejects(
      t.db.transaction(async (trx) => {
        await enqueue(trx, clock, [{ topic: 'test', key: 'order:1', payload: { name: 'rolled back' } }]);
        throw new Error('the sale failed after writing its outbox row');
      }),
      /the sale failed/,
    );
    await look();
    clock.advance(3600_000);
    await look();
    assert.deepEqual(topic.attempted, []);
    assert.equal((await t.db('outbox').count<{ n: number }[]>('* as n'))[0].n, 0, 'nothing was left behind');
  });

  it('delivers a committed row after the commit, woken by outbox:written; not while its transaction is open', async () => {
    events.subscribe('outbox:written', () => worker.wake());
    const trx = await t.db.transaction();
    try {
      await enqueue(trx, clock, [{ topic: 'test', key: 'order:2', payload: { name: 'paid' } }]);
      await look(); // the row is not committed: the worker cannot see it
      assert.deepEqual(topic.attempted, []);
      await trx.commit();
    } finally {
      if (!trx.isCompleted()) await trx.rollback();
    }
    events.publish('outbox:written', { topic: 'test' });
    await until('delivered', () => topic.delivered.length === 1);
    await worker.idle();
    assert.deepEqual(topic.delivered, ['paid']);
    const r = await row('paid');
    assert.equal(r.state, 'delivered');
    assert.equal(r.attempts, 1);
    assert.equal(r.delivered_at!.getTime(), clock.now().getTime(), 'at the injected clock\'s time');
    await look();
    assert.deepEqual(topic.attempted, ['paid'], 'once');
  });

  it('a failing head holds back the later rows of its key, never the rows of other keys; they follow in order once it succeeds', async () => {
    await write([['a', 'a1'], ['b', 'b1'], ['a', 'a2'], ['a', 'a3'], ['b', 'b2']]);
    topic.refuse.add('a1');
    await look();
    assert.deepEqual(topic.attempted.filter((n) => n.startsWith('a')), ['a1'], 'a2 and a3 wait behind a1');
    assert.deepEqual(topic.delivered, ['b1', 'b2'], 'key b is not held up');
    const head = await row('a1');
    assert.equal(head.state, 'pending');
    assert.equal(head.attempts, 1);
    assert.equal(head.last_error, 'refused a1');
    assert.equal((await row('a2')).attempts, 0);

    // while a1 waits out its backoff, the rows behind it are due but stay behind it
    await look();
    assert.deepEqual(topic.attempted.filter((n) => n.startsWith('a')), ['a1'], 'nothing of key a while its head is not due');

    // still refused after its backoff: still blocking
    clock.advance(1000);
    await look();
    assert.deepEqual(topic.attempted.filter((n) => n.startsWith('a')), ['a1', 'a1']);

    topic.refuse.clear();
    clock.advance(2000);
    await look();
    assert.deepEqual(topic.delivered, ['b1', 'b2', 'a1', 'a2', 'a3'], 'a1, then what waited behind it, in order');
    assert.deepEqual((await t.db('outbox').orderBy('id').pluck('state')), ['delivered', 'delivered', 'delivered', 'delivered', 'delivered']);
  });

  it('retries after a backoff that doubles, on the injected clock: not a millisecond before it is due', async () => {
    await write([['c', 'flaky']]);
    topic.refuse.add('flaky');
    await look();
    assert.equal(topic.attempted.length, 1);
    for (const [attempts, delay] of [[1, 1000], [2, 2000], [3, 4000], [4, 8000], [5, 16_000]]) {
      const r = await row('flaky');
      assert.equal(r.attempts, attempts);
      assert.equal(r.next_attempt_at.getTime(), clock.now().getTime() + delay, `after attempt ${attempts}: ${delay} ms`);
      clock.advance(delay - 1);
      await look();
      assert.equal(topic.attempted.length, attempts, 'not yet due');
      clock.advance(1);
      await look();
      assert.equal(topic.attempted.length, attempts + 1, 'due');
    }
  });

  it('backoff: 1 s doubling to a 5-minute cap, with ±20 % jitter', () => {
    assert.deepEqual([1, 2, 3, 4, 9, 10, 30].map((n) => backoffMs(n, () => 0.5)), [1000, 2000, 4000, 8000, 256_000, 300_000, 300_000]);
    assert.equal(backoffMs(3, () => 0), 3200);
    assert.equal(backoffMs(3, () => 1), 4800);
    for (let i = 0; i < 200; i++) {
      const d = backoffMs(5);
      assert.ok(d >= 12_800 && d <= 19_200, String(d));
    }
  });

  it('rows of one key written by two transactions at once are delivered in the order they committed', async () => {
    const first = await t.db.transaction();
    let secondDone = false;
    let second: Promise<unknown> | undefined;
    try {
      await enqueue(first, clock, [{ topic: 'test', key: 'printer:1', payload: { name: 'first' } }]);
      second = t.db.transaction((trx) => enqueue(trx, clock, [{ topic: 'test', key: 'printer:1', payload: { name: 'second' } }])).then(() => (secondDone = true));
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(secondDone, false, 'the second writer of the key waits for the first to end');
      await look(); // whatever is committed so far
      await first.commit();
    } finally {
      if (!first.isCompleted()) await first.rollback();
    }
    await second;
    await look();
    assert.deepEqual(topic.delivered, ['first', 'second']);
    // while a transaction holds key printer:1, a writer of another key does not wait for it
    const other = await t.db.transaction();
    try {
      await enqueue(other, clock, [{ topic: 'test', key: 'printer:1', payload: { name: 'third' } }]);
      await write([['printer:2', 'elsewhere']]);
    } finally {
      await other.commit();
    }
  });

  it('leaves the rows of a topic nothing delivers waiting, and delivers the others', async () => {
    await t.db.transaction((trx) => enqueue(trx, clock, [{ topic: 'print', key: 'printer:1', payload: { name: 'receipt' } }, { topic: 'test', key: 'x', payload: { name: 'x1' } }]));
    await look();
    assert.deepEqual(topic.delivered, ['x1']);
    assert.equal((await row('receipt')).state, 'pending');
  });
});
