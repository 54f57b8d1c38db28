import type { Clock } from '../../server/clock';

/** The injected clock for tests: time moves only when the test says so. */
export class FakeClock implements Clock {
  private t: number;
  constructor(start: Date | string = '2026-03-14T09:30:00Z') {
    this.t = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.t);
  }
  set(at: Date | string): void {
    this.t = new Date(at).getTime();
  }
  advance(ms: number): void {
    this.t += ms;
  }
}
