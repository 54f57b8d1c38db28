import assert from 'node:assert/strict';
import { addDays, businessDate, zonedMoment } from './business-date';

describe('businessDate', () => {
  it('puts a moment before the day start on the day before', () => {
    assert.equal(businessDate(new Date('2026-03-15T01:30:00Z'), 'UTC', '04:00'), '2026-03-14');
    assert.equal(businessDate(new Date('2026-03-15T04:00:00Z'), 'UTC', '04:00'), '2026-03-15');
    assert.equal(businessDate(new Date('2026-03-15T03:59:00Z'), 'UTC', '04:00'), '2026-03-14');
  });

  // spring forward: 2026-03-29 02:00 CET → 03:00 CEST (01:00 UTC)
  it('is right on Europe/Berlin spring-forward day (the wall clock, not 4 absolute hours)', () => {
    // 04:30 CEST on the 29th = 02:30 UTC; minus 4 absolute hours would give 23:30 CET on the 28th
    assert.equal(businessDate(new Date('2026-03-29T02:30:00Z'), 'Europe/Berlin', '04:00'), '2026-03-29');
    // 03:30 CEST on the 29th = 01:30 UTC: before the 04:00 start, still the 28th
    assert.equal(businessDate(new Date('2026-03-29T01:30:00Z'), 'Europe/Berlin', '04:00'), '2026-03-28');
    // exactly 04:00 CEST
    assert.equal(businessDate(new Date('2026-03-29T02:00:00Z'), 'Europe/Berlin', '04:00'), '2026-03-29');
  });

  // fall back: 2026-10-25 03:00 CEST → 02:00 CET (01:00 UTC)
  it('is right on Europe/Berlin fall-back day', () => {
    // 03:30 CET on the 25th = 02:30 UTC: before the 04:00 start, still the 24th
    assert.equal(businessDate(new Date('2026-10-25T02:30:00Z'), 'Europe/Berlin', '04:00'), '2026-10-24');
    // 04:10 CET = 03:10 UTC: the new day has begun; 4 absolute hours back = 23:10 UTC = 01:10 CEST the 25th
    assert.equal(businessDate(new Date('2026-10-25T03:10:00Z'), 'Europe/Berlin', '04:00'), '2026-10-25');
    // 05:30 CET = 04:30 UTC
    assert.equal(businessDate(new Date('2026-10-25T04:30:00Z'), 'Europe/Berlin', '04:00'), '2026-10-25');
    // the day after: 04:20 CET on the 26th = 03:20 UTC
    assert.equal(businessDate(new Date('2026-10-26T03:20:00Z'), 'Europe/Berlin', '04:00'), '2026-10-26');
  });

  // America/New_York: spring 2026-03-08 02:00 EST → 03:00 EDT (07:00 UTC); fall 2026-11-01 02:00 EDT → 01:00 EST (06:00 UTC)
  it('is right on America/New_York spring and autumn days', () => {
    // 04:15 EDT on 03-08 = 08:15 UTC; 4 absolute hours back = 04:15 UTC = 23:15 EST on 03-07: wrong
    assert.equal(businessDate(new Date('2026-03-08T08:15:00Z'), 'America/New_York', '04:00'), '2026-03-08');
    assert.equal(businessDate(new Date('2026-03-08T07:45:00Z'), 'America/New_York', '04:00'), '2026-03-07'); // 03:45 EDT
    // 03:30 EST on 11-01 = 08:30 UTC; 4 absolute hours back = 04:30 UTC = 00:30 EDT on 11-01: wrong (day not begun)
    assert.equal(businessDate(new Date('2026-11-01T08:30:00Z'), 'America/New_York', '04:00'), '2026-10-31');
    assert.equal(businessDate(new Date('2026-11-01T09:00:00Z'), 'America/New_York', '04:00'), '2026-11-01'); // 04:00 EST
  });

  it('addDays crosses months and years', () => {
    assert.equal(addDays('2026-12-31', 1), '2027-01-01');
    assert.equal(addDays('2026-03-01', -1), '2026-02-28');
  });

  it('zonedMoment finds a wall-clock time in a zone across offsets', () => {
    assert.equal(zonedMoment('2026-07-01', '02:30', 'Europe/Berlin').toISOString(), '2026-07-01T00:30:00.000Z');
    assert.equal(zonedMoment('2026-01-01', '02:30', 'Europe/Berlin').toISOString(), '2026-01-01T01:30:00.000Z');
    assert.equal(zonedMoment('2026-11-01', '01:30', 'America/New_York').toISOString(), '2026-11-01T05:30:00.000Z'); // first of the two
  });
});
