import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from './logger';
import { createEventBus } from './events';

/** A logger whose JSON lines the test reads. */
function recordingLog() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  return { log: createLogger('info', sink), lines };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('the event bus (server/events.ts)', () => {
  it('calls the handlers of an event in the order they subscribed, with the payload, and only those of that event', () => {
    const bus = createEventBus(recordingLog().log);
    const heard: string[] = [];
    bus.subscribe('order:changed', (p) => void heard.push(`first ${p.orderId}@${p.version}`));
    bus.subscribe('floor:changed', () => void heard.push('floor'));
    bus.subscribe('order:changed', (p) => void heard.push(`second ${p.orderId}@${p.version}`));
    bus.subscribe('order:changed', (p) => void heard.push(`third ${p.orderId}@${p.version}`));
    bus.publish('order:changed', { orderId: 7, version: 3 });
    assert.deepEqual(heard, ['first 7@3', 'second 7@3', 'third 7@3'], 'all of them, in order, before publish returns');
    bus.publish('floor:changed', {});
    assert.deepEqual(heard.slice(3), ['floor']);
  });

  it('a handler that throws is logged and skipped: the publisher does not see it and the later handlers still run', () => {
    const { log, lines } = recordingLog();
    const bus = createEventBus(log);
    const heard: string[] = [];
    bus.subscribe('ticket:created', () => void heard.push('before'));
    bus.subscribe('ticket:created', () => {
      throw new Error('the socket server is gone');
    });
    bus.subscribe('ticket:created', (t) => void heard.push(`after ${t.ticketId}`));
    assert.doesNotThrow(() => bus.publish('ticket:created', { ticketId: 5, stationId: 1, orderId: 9 }));
    assert.deepEqual(heard, ['before', 'after 5']);
    const logged = lines.filter((l) => l.event === 'ticket:created');
    assert.equal(logged.length, 1);
    assert.equal(logged[0].level, 50, 'logged as an error');
    assert.match(JSON.stringify(logged[0].err), /the socket server is gone/);
    // and the bus keeps working for the next publish
    bus.publish('ticket:created', { ticketId: 6, stationId: 1, orderId: 9 });
    assert.deepEqual(heard, ['before', 'after 5', 'before', 'after 6']);
  });

  it('a handler whose promise rejects is logged too, and breaks nobody', async () => {
    const { log, lines } = recordingLog();
    const bus = createEventBus(log);
    const heard: string[] = [];
    bus.subscribe('outbox:written', async () => {
      await tick();
      throw new Error('the worker could not look');
    });
    bus.subscribe('outbox:written', ({ topic }) => void heard.push(topic));
    bus.publish('outbox:written', { topic: 'webhook' });
    assert.deepEqual(heard, ['webhook']);
    await tick();
    await tick();
    const logged = lines.filter((l) => l.event === 'outbox:written');
    assert.equal(logged.length, 1);
    assert.match(JSON.stringify(logged[0].err), /the worker could not look/);
  });

  it('unsubscribes a handler; a handler added during a publish hears the next one, not that one', () => {
    const bus = createEventBus(recordingLog().log);
    const heard: string[] = [];
    const off = bus.subscribe('product:availability', (p) => {
      heard.push(`a ${p.available}`);
      bus.subscribe('product:availability', (q) => void heard.push(`late ${q.available}`));
    });
    bus.publish('product:availability', { productId: 1, available: false });
    assert.deepEqual(heard, ['a false']);
    off();
    bus.publish('product:availability', { productId: 1, available: true });
    assert.deepEqual(heard, ['a false', 'late true']);
  });

  it('two buses never hear each other (one per app: no module-level bus)', () => {
    const a = createEventBus(recordingLog().log);
    const b = createEventBus(recordingLog().log);
    const heard: string[] = [];
    a.subscribe('floor:changed', () => void heard.push('a'));
    b.publish('floor:changed', {});
    assert.deepEqual(heard, []);
  });
});
