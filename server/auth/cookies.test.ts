import assert from 'node:assert/strict';
import Keygrip from 'keygrip';
import { CookieKeys } from './cookies';

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
});
