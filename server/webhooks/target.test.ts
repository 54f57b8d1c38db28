import assert from 'node:assert/strict';
import { BlockList, isIP } from 'node:net';
import fc from 'fast-check';
import { classifyAddress, refusedHost, resolveTarget, TargetRefused, type Lookup } from './target';

/** The host part of a URL as the WHATWG parser leaves it: what the checks are given. */
const hostOf = (url: string) => new URL(url).hostname;

describe('webhook targets', () => {
  describe('classifyAddress', () => {
    // pinned: each refused range, its edges, and the addresses of the issue
    const pinned: Array<[string, ReturnType<typeof classifyAddress>]> = [
      ['127.0.0.1', 'loopback'],
      ['127.255.255.255', 'loopback'],
      ['126.255.255.255', null],
      ['128.0.0.0', null],
      ['10.0.0.1', 'private'],
      ['10.255.255.255', 'private'],
      ['11.0.0.0', null],
      ['9.255.255.255', null],
      ['172.16.0.0', 'private'],
      ['172.31.255.255', 'private'],
      ['172.15.255.255', null],
      ['172.32.0.0', null],
      ['192.168.0.1', 'private'],
      ['192.169.0.0', null],
      ['169.254.169.254', 'link-local'],
      ['169.254.0.0', 'link-local'],
      ['169.255.0.0', null],
      ['100.64.0.0', 'shared (carrier-grade NAT)'],
      ['100.127.255.255', 'shared (carrier-grade NAT)'],
      ['100.63.255.255', null],
      ['100.128.0.0', null],
      ['0.0.0.0', 'unspecified'],
      ['0.255.255.255', 'unspecified'],
      ['1.0.0.0', null],
      ['224.0.0.1', 'multicast'],
      ['239.255.255.250', 'multicast'],
      ['240.0.0.1', 'reserved'],
      ['255.255.255.255', 'reserved'],
      ['192.0.0.8', 'reserved'],
      ['198.18.0.1', 'reserved'],
      ['198.20.0.0', null],
      ['8.8.8.8', null],
      ['93.184.216.34', null],
      ['223.255.255.255', null],
      ['::1', 'loopback'],
      ['[::1]', 'loopback'],
      ['0:0:0:0:0:0:0:1', 'loopback'],
      ['::', 'unspecified'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:7f00:1', 'loopback'],
      ['[::ffff:7f00:1]', 'loopback'],
      ['::ffff:10.1.2.3', 'private'],
      ['::ffff:a9fe:a9fe', 'link-local'],
      ['::ffff:8.8.8.8', null],
      ['::127.0.0.1', 'loopback'],
      ['::8.8.8.8', 'reserved'],
      ['::2', 'reserved'],
      ['64:ff9b::7f00:1', 'loopback'],
      ['64:ff9b::8.8.8.8', null],
      ['64:ff9b:1::1', 'private'],
      ['100::1', 'reserved'],
      ['2002:7f00:1::1', 'loopback'],
      ['2002:c0a8:101::', 'private'],
      ['2002:808:808::1', null],
      ['fc00::1', 'private'],
      ['fd12:3456:789a::1', 'private'],
      ['fbff:ffff::1', null],
      ['fe80::1', 'link-local'],
      ['fe80::1%eth0', 'link-local'],
      ['febf:ffff::1', 'link-local'],
      ['fec0::1', 'private'],
      ['ff02::1', 'multicast'],
      ['FF0E::1', 'multicast'],
      ['2001:4860:4860::8888', null],
      ['2606:4700:4700::1111', null],
      ['example.com', undefined],
      ['localhost', undefined],
      ['2130706433', undefined], // not an address as text; the URL parser makes it one (below)
    ];
    for (const [address, range] of pinned) {
      it(`${address} → ${range}`, () => assert.equal(classifyAddress(address), range));
    }

    // an oracle written apart from the classifier: node's BlockList over the ranges as CIDR text
    const v4Refused = new BlockList();
    for (const cidr of ['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24', '192.168.0.0/16', '198.18.0.0/15', '224.0.0.0/4', '240.0.0.0/4']) {
      const [net, bits] = cidr.split('/');
      v4Refused.addSubnet(net, Number(bits), 'ipv4');
    }
    const v6Refused = new BlockList();
    for (const cidr of ['::/8', '64:ff9b:1::/48', '100::/64', 'fc00::/7', 'fe80::/10', 'fec0::/10', 'ff00::/8']) {
      const [net, bits] = cidr.split('/');
      v6Refused.addSubnet(net, Number(bits), 'ipv6');
    }
    const embedding = new BlockList(); // prefixes whose addresses carry an IPv4 address
    embedding.addSubnet('::ffff:0:0', 96, 'ipv6');
    embedding.addSubnet('64:ff9b::', 96, 'ipv6');
    embedding.addSubnet('2002::', 16, 'ipv6');

    it('refuses exactly the IPv4 addresses in the refused ranges', () => {
      fc.assert(fc.property(fc.ipV4(), (a) => (classifyAddress(a) !== null) === v4Refused.check(a, 'ipv4')), { numRuns: 5000 });
      // and near every edge
      for (const edge of ['0.0.0.0', '10.0.0.0', '100.64.0.0', '127.0.0.0', '169.254.0.0', '172.16.0.0', '192.0.0.0', '192.168.0.0', '198.18.0.0', '224.0.0.0', '240.0.0.0']) {
        const n = edge.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
        for (const d of [-1, 0, 1]) {
          const m = n + d;
          if (m < 0) continue;
          const a = [m >>> 24, (m >>> 16) & 255, (m >>> 8) & 255, m & 255].join('.');
          assert.equal(classifyAddress(a) !== null, v4Refused.check(a, 'ipv4'), a);
        }
      }
    });

    it('judges an IPv4 address the same when it is mapped, NAT64-translated or 6to4-embedded in IPv6', () => {
      fc.assert(
        fc.property(fc.ipV4(), (a) => {
          const [x, y, z, w] = a.split('.').map(Number);
          const hex = (hi: number, lo: number) => ((hi << 8) | lo).toString(16);
          const want = classifyAddress(a);
          assert.equal(classifyAddress(`::ffff:${a}`), want);
          assert.equal(classifyAddress(`::ffff:${hex(x, y)}:${hex(z, w)}`), want);
          assert.equal(classifyAddress(`[::ffff:${a}]`), want);
          assert.equal(classifyAddress(`64:ff9b::${a}`), want);
          assert.equal(classifyAddress(`2002:${hex(x, y)}:${hex(z, w)}::1`), want);
        }),
        { numRuns: 2000 },
      );
    });

    it('refuses exactly the other IPv6 addresses in the refused ranges, however they are written', () => {
      fc.assert(
        fc.property(fc.ipV6(), (a) => {
          fc.pre(!embedding.check(a, 'ipv6'));
          assert.equal(classifyAddress(a) !== null, v6Refused.check(a, 'ipv6'), a);
        }),
        { numRuns: 5000 },
      );
    });

    it('every numeric form of an IPv4 host reaches the classifier as an address, never as a name', () => {
      // decimal, octal, hex, short forms: the WHATWG URL parser writes each as a dotted quad
      fc.assert(fc.property(fc.ipV4Extended(), (s) => isIP(hostOf(`http://${s}/`)) === 4), { numRuns: 2000 });
    });
  });

  describe('refusedHost (at registration)', () => {
    const cases: Array<[string, string]> = [
      ['http://127.0.0.1:8080/hooks', '127.0.0.1 is a loopback address'],
      ['http://2130706433/', '127.0.0.1 is a loopback address'],
      ['http://0x7f000001/', '127.0.0.1 is a loopback address'],
      ['http://0177.0.0.1/', '127.0.0.1 is a loopback address'],
      ['http://127.1/', '127.0.0.1 is a loopback address'],
      ['http://127.0.0.1./', '127.0.0.1 is a loopback address'],
      ['http://[::1]:3000/', '::1 is a loopback address'],
      ['http://[0:0:0:0:0:0:0:1]/', '::1 is a loopback address'],
      ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1 is a loopback address'],
      ['http://[::ffff:7f00:1]/', '::ffff:7f00:1 is a loopback address'],
      ['http://localhost:3000/', 'localhost is a loopback name'],
      ['http://LOCALHOST./', 'localhost. is a loopback name'],
      ['http://hooks.localhost/', 'hooks.localhost is a loopback name'],
      ['http://10.0.0.1/', '10.0.0.1 is a private address'],
      ['http://192.168.1.10/', '192.168.1.10 is a private address'],
      ['http://172.20.0.5/', '172.20.0.5 is a private address'],
      ['http://[fd00::5]/', 'fd00::5 is a private address'],
      ['http://169.254.169.254/latest/meta-data/', '169.254.169.254 is a link-local address'],
      ['http://[fe80::1]/', 'fe80::1 is a link-local address'],
      ['http://0/', '0.0.0.0 is an unspecified address'],
      ['http://[::]/', ':: is an unspecified address'],
      ['http://100.100.100.100/', '100.100.100.100 is a shared (carrier-grade NAT) address'],
      ['http://239.1.2.3/', '239.1.2.3 is a multicast address'],
      ['http://[ff02::1]/', 'ff02::1 is a multicast address'],
    ];
    for (const [url, why] of cases) {
      it(`refuses ${url}: ${why}`, () => assert.equal(refusedHost(hostOf(url)), why));
    }
    for (const url of ['https://hooks.example.com/pos', 'http://8.8.8.8/', 'https://[2001:4860:4860::8888]/', 'https://localhost.example.com/', 'https://notlocalhost/', 'http://hooks.example.test/']) {
      it(`accepts ${url} (a public address, or a name: checked when delivering)`, () => assert.equal(refusedHost(hostOf(url)), null));
    }
  });

  describe('resolveTarget (at delivery)', () => {
    const table = (answers: Record<string, string[]>) => {
      const asked: string[] = [];
      const lookup: Lookup = async (name) => {
        asked.push(name);
        const a = answers[name];
        if (!a) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
        return a.map((address) => ({ address, family: isIP(address) }));
      };
      return { lookup, asked };
    };
    const refusal = async (p: Promise<unknown>) => {
      const err = await p.then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof TargetRefused, `refused, not ${String(err)}`);
      return err.message;
    };

    it('refuses a name that resolves to loopback, saying so', async () => {
      const { lookup } = table({ 'hooks.example.test': ['127.0.0.1'] });
      assert.equal(await refusal(resolveTarget('hooks.example.test', lookup, false)), 'refused: hooks.example.test resolves to 127.0.0.1, a loopback address');
    });

    it('refuses a name when any of its addresses is refused, wherever it is in the answer', async () => {
      const { lookup } = table({ a: ['93.184.216.34', '10.1.2.3'], b: ['2606:4700::1', '::ffff:169.254.169.254'], c: ['8.8.8.8', '8.8.4.4', 'fe80::1'] });
      assert.equal(await refusal(resolveTarget('a', lookup, false)), 'refused: a resolves to 10.1.2.3, a private address');
      assert.equal(await refusal(resolveTarget('b', lookup, false)), 'refused: b resolves to ::ffff:169.254.169.254, a link-local address');
      assert.equal(await refusal(resolveTarget('c', lookup, false)), 'refused: c resolves to fe80::1, a link-local address');
    });

    it('gives the first address of a name whose addresses are all public', async () => {
      const { lookup } = table({ 'hooks.example.com': ['93.184.216.34', '2606:2800:220:1::1'] });
      assert.deepEqual(await resolveTarget('hooks.example.com', lookup, false), { address: '93.184.216.34', family: 4 });
    });

    it('refuses a name that resolves to nothing, or to something that is not an address', async () => {
      const { lookup } = table({ empty: [], odd: ['not-an-ip'] });
      assert.equal(await refusal(resolveTarget('empty', lookup, false)), 'refused: empty resolves to no address');
      assert.match(await refusal(resolveTarget('odd', lookup, true)), /not an IP address/);
    });

    it('does not resolve a literal address or a localhost name, and refuses each without the lab setting', async () => {
      const { lookup, asked } = table({});
      assert.equal(await refusal(resolveTarget('[::1]', lookup, false)), 'refused: ::1 is a loopback address');
      assert.equal(await refusal(resolveTarget('[::ffff:7f00:1]', lookup, false)), 'refused: ::ffff:7f00:1 is a loopback address');
      assert.equal(await refusal(resolveTarget('169.254.169.254', lookup, false)), 'refused: 169.254.169.254 is a link-local address');
      assert.equal(await refusal(resolveTarget('api.localhost', lookup, false)), 'refused: api.localhost is a loopback name');
      assert.deepEqual(await resolveTarget('8.8.8.8', lookup, false), { address: '8.8.8.8', family: 4 });
      assert.deepEqual(await resolveTarget('[2001:4860:4860::8888]', lookup, false), { address: '2001:4860:4860::8888', family: 6 });
      assert.deepEqual(asked, []);
    });

    it('with the lab setting on, allows private and loopback addresses', async () => {
      const { lookup } = table({ 'hooks.example.test': ['127.0.0.1', '10.0.0.1'] });
      assert.deepEqual(await resolveTarget('hooks.example.test', lookup, true), { address: '127.0.0.1', family: 4 });
      assert.deepEqual(await resolveTarget('[::1]', lookup, true), { address: '::1', family: 6 });
      assert.deepEqual(await resolveTarget('127.0.0.1', lookup, true), { address: '127.0.0.1', family: 4 });
    });

    it('passes on what the resolver throws', async () => {
      const { lookup } = table({});
      await assert.rejects(resolveTarget('nowhere.example.test', lookup, false), /ENOTFOUND nowhere\.example\.test/);
    });
  });
});
