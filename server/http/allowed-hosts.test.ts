import assert from 'node:assert/strict';
import { BusinessSettings, DEFAULT_SETTINGS } from '../settings/schema';
import { hostAllowed, hostName } from './allowed-hosts';

describe('allowed hosts', () => {
  it('reads the name of a Host header without its port', () => {
    assert.equal(hostName('POS.Local:3000'), 'pos.local');
    assert.equal(hostName('pos.local.'), 'pos.local');
    assert.equal(hostName('192.168.1.10'), '192.168.1.10');
    assert.equal(hostName('[FE80::1]:8443'), 'fe80::1');
    assert.equal(hostName('[::1]'), '::1');
  });

  it('passes any host when the list is empty, else only listed names and loopback', () => {
    assert.equal(hostAllowed('evil.example', []), true);
    assert.equal(hostAllowed(undefined, []), true);
    const list = ['pos.local', '192.168.1.10', 'fe80::1'];
    for (const ok of ['pos.local', 'POS.LOCAL:80', '192.168.1.10:3000', '[fe80::1]:3000', 'localhost:3000', '127.0.0.1', '[::1]:3000']) {
      assert.equal(hostAllowed(ok, list), true, ok);
    }
    for (const no of ['evil.example', 'pos.local.evil.example', '192.168.1.11', '', undefined]) {
      assert.equal(hostAllowed(no, list), false, String(no));
    }
  });

  it('the setting takes names and addresses, stored normalised, and refuses anything else by name', () => {
    const parse = (allowedHosts: string[]) => BusinessSettings.safeParse({ ...DEFAULT_SETTINGS, allowedHosts });
    const ok = parse(['POS.local', '192.168.1.10', '[FE80::1]', 'till-1.shop.example.']);
    assert.ok(ok.success);
    assert.deepEqual(ok.data.allowedHosts, ['pos.local', '192.168.1.10', 'fe80::1', 'till-1.shop.example']);
    for (const bad of ['http://pos.local', 'pos.local:3000', '*.shop.example', 'pos.local/x', 'a..b', '-pos.local', '10.0.0.300', '']) {
      const r = parse([bad]);
      assert.equal(r.success, false, bad);
      assert.match(r.error!.issues[0].message, /is not a host name or IP address/, bad);
    }
  });
});
