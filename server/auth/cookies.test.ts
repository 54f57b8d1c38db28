import assert from 'node:assert/strict';
import Keygrip from 'keygrip';
import crypto from 'node:crypto';
import { CookieKeys, csrfToken } from './cookies';

describe('CookieKeys (signed cookies)', () => {
  const samples = ['store.device=1220000000001.abc', 'store.session=3rY4acpnY8B6MTfoW13Zi_WIN_aT1rW1', '', 'ü=€ /+', 'x'.repeat(500)];

  it('signs exactly as keygrip does, so cookies issued before stay valid', () => {
    const ours = new CookieKeys(['secret-one', 'secret-two']);
    const theirs = new Keygrip(['secret-one', 'secret-two']);
    for (const data of samples) {
      assert.equal(ours.sign(data), theirs.sign(data));
      assert.equal(ours.index(data, theirs.sign(data)), 0);
    }
  });

  it('finds the key that signed, and refuses a tampered value or signature', () => {
    const current = new CookieKeys(['new-key', 'old-key']);
    const old = new CookieKeys(['old-key']);
    const data = 'store.session=abc';
    assert.equal(current.index(data, old.sign(data)), 1, 'a cookie signed with the previous key');
    assert.equal(current.index('store.session=abd', current.sign(data)), -1);
    const sig = current.sign(data);
    assert.equal(current.index(data, sig.slice(0, -1) + (sig.endsWith('A') ? 'B' : 'A')), -1);
    assert.equal(current.index(data, ''), -1);
    assert.equal(current.verify(data, sig), true);
  });

  it('remembers a pair it found valid, and still refuses every other signature for the same value', () => {
    const keys = new CookieKeys(['k']);
    const data = 'store.device=7.secret';
    const sig = keys.sign(data);
    for (let i = 0; i < 3; i++) assert.equal(keys.index(data, sig), 0);
    assert.equal(keys.index(data, sig.slice(0, -1) + (sig.endsWith('A') ? 'B' : 'A')), -1);
    assert.equal(keys.index(data + 'x', sig), -1);
    // the same characters split differently between value and signature are not the pair remembered
    assert.equal(keys.index(data.slice(1), sig + data[0]), -1);
    assert.equal(keys.index(sig.slice(-1) + data, sig.slice(0, -1)), -1);
    // many distinct cookies: the memo stays bounded and answers stay right
    for (let i = 0; i < 12_000; i++) assert.equal(keys.index(`c=${i}`, keys.sign(`c=${i}`)), 0);
    assert.equal(keys.index(data, sig), 0);
  });

  it('gives each browser its CSRF token, the same on every call, different per cookie and per key', () => {
    const expected = (cookie: string, key: string) => crypto.createHmac('sha256', key).update('csrf:' + cookie).digest('base64url');
    assert.equal(csrfToken('abc', 'k1'), expected('abc', 'k1'));
    assert.equal(csrfToken('abc', 'k1'), expected('abc', 'k1'));
    assert.equal(csrfToken('abc', 'k2'), expected('abc', 'k2'));
    assert.equal(csrfToken('abd', 'k1'), expected('abd', 'k1'));
  });
});
