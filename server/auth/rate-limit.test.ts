import assert from 'node:assert/strict';
import { RateLimiter } from './rate-limit';

class Clock {
  t = Date.parse('2026-03-14T09:30:00Z');
  now = () => new Date(this.t);
}

describe('RateLimiter.retryAfterSeconds', () => {
  it('says how many whole seconds until the key\'s window frees', () => {
    const clock = new Clock();
    const limiter = new RateLimiter(clock, 2);
    assert.equal(limiter.take('a'), true);
    assert.equal(limiter.take('a'), true);
    assert.equal(limiter.take('a'), false);
    assert.equal(limiter.retryAfterSeconds('a'), 60);
    clock.t += 15_500;
    assert.equal(limiter.take('a'), false);
    assert.equal(limiter.retryAfterSeconds('a'), 45, '44.5 s rounded up');
    clock.t += 44_000;
    assert.equal(limiter.retryAfterSeconds('a'), 1, 'never 0 while the window lasts');
    clock.t += 500;
    assert.equal(limiter.take('a'), true, 'the window freed when it said');
  });

  it('is 1 for a key it never saw', () => {
    assert.equal(new RateLimiter(new Clock(), 2).retryAfterSeconds('nobody'), 1);
  });
});
