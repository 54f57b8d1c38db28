import assert from 'node:assert/strict';
import { parsePaperStatus, parseStatus, statusBytes } from './status';

// Answers as real Epson TM-T20/T88 printers send them to DLE EOT 1, 2, 3, 4.
describe('parseStatus: DLE EOT answers to named flags', () => {
  it('reads a ready printer, drawer closed: 12 12 12 12', () => {
    assert.deepEqual(parseStatus({ printer: 0x12, offline: 0x12, error: 0x12, paper: 0x12 }), {
      online: true,
      coverOpen: false,
      paperNearEnd: false,
      paperOut: false,
      drawerOpen: false,
      error: false,
    });
  });

  it('reads cover open: printer 1a (offline), offline cause 16 (cover open)', () => {
    const s = parseStatus({ printer: 0x1a, offline: 0x16, error: 0x12, paper: 0x12 });
    assert.equal(s.online, false);
    assert.equal(s.coverOpen, true);
    assert.equal(s.paperOut, false);
  });

  it('reads paper out: printer 1a, offline 32 (stopped for paper end), paper 72 (end detected)', () => {
    const s = parseStatus({ printer: 0x1a, offline: 0x32, error: 0x12, paper: 0x72 });
    assert.deepEqual(s, { online: false, coverOpen: false, paperNearEnd: false, paperOut: true, drawerOpen: false, error: false });
  });

  it('reads paper near end: paper 1e (bits 2–3) while still online', () => {
    const s = parseStatus({ printer: 0x12, offline: 0x12, error: 0x12, paper: 0x1e });
    assert.equal(s.paperNearEnd, true);
    assert.equal(s.paperOut, false);
    assert.equal(s.online, true);
  });

  it('reads the drawer from pin 3: high (16) is open by default, low is open for a drawer wired the other way', () => {
    assert.equal(parseStatus({ printer: 0x16, offline: 0x12, error: 0x12, paper: 0x12 }).drawerOpen, true);
    assert.equal(parseStatus({ printer: 0x12, offline: 0x12, error: 0x12, paper: 0x12 }).drawerOpen, false);
    assert.equal(parseStatus({ printer: 0x12, offline: 0x12, error: 0x12, paper: 0x12 }, 'low').drawerOpen, true);
  });

  it('reads an autocutter error: offline 52 (error), error 1a (autocutter)', () => {
    assert.equal(parseStatus({ printer: 0x1a, offline: 0x52, error: 0x1a, paper: 0x12 }).error, true);
    assert.equal(parseStatus({ printer: 0x12, offline: 0x12, error: 0x1a, paper: 0x12 }).error, true);
  });

  it('refuses a byte that is not a status answer (fixed bits 1 and 4 set, 0 and 7 clear)', () => {
    assert.throws(() => parseStatus({ printer: 0x00, offline: 0x12, error: 0x12, paper: 0x12 }), /printer answer 0x00 is not a status byte/);
    assert.throws(() => parseStatus({ printer: 0x12, offline: 0x13, error: 0x12, paper: 0x12 }), /offline answer 0x13/);
    assert.throws(() => parseStatus({ printer: 0x12, offline: 0x12, error: 0x92, paper: 0x12 }), /error answer 0x92/);
  });

  it('statusBytes is its inverse, for the simulator and the fake', () => {
    const flags = { online: false, coverOpen: true, paperNearEnd: true, paperOut: true, drawerOpen: true, error: false };
    assert.deepEqual(parseStatus(statusBytes(flags)), flags);
    assert.deepEqual(statusBytes(flags), { printer: 0x1e, offline: 0x36, error: 0x12, paper: 0x7e });
  });
});

describe('parsePaperStatus: the GS r 1 answer', () => {
  it('reads 00 as paper present, 03 as near end, 0c as paper out, and refuses a DLE EOT byte', () => {
    assert.deepEqual(parsePaperStatus(0x00), { nearEnd: false, out: false });
    assert.deepEqual(parsePaperStatus(0x03), { nearEnd: true, out: false });
    assert.deepEqual(parsePaperStatus(0x0f), { nearEnd: true, out: true });
    assert.throws(() => parsePaperStatus(0x12), /not a paper status byte/);
  });
});
