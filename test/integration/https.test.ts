import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { tempDir } from '../helpers/config';
import { createTestDb, type TestDb } from '../helpers/pg';
import { spawnCli, waitForListening, type Spawned } from '../helpers/spawn';
import { seedStore } from '../helpers/store';
import { needTools } from '../helpers/tools';

const ROOT = path.resolve(__dirname, '../..');

interface Answer { status: number; headers: http.IncomingHttpHeaders; body: string }

function get(url: string, ca?: Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const lib = url.startsWith('https:') ? https : http;
    const req = lib.get(url, { ca, headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.setTimeout(15_000, () => req.destroy(new Error('no answer')));
  });
}

describe('HTTPS with a certificate from the store CA (installer/make-cert.sh)', function () {
  this.timeout(180_000);
  let t: TestDb;
  let s: Spawned | undefined;
  let url: string;
  let ca: Buffer;
  const dir = tempDir('store-https-');

  before(async function () {
    needTools(this, 'openssl');
    const made = spawnSync(path.join(ROOT, 'installer', 'make-cert.sh'), [path.join(dir, 'tls'), 'storebox'], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    ca = fs.readFileSync(path.join(dir, 'tls', 'ca.pem'));
    t = await createTestDb();
    await seedStore(t.db);
    s = spawnCli(['start'], {
      DATA_DIR: path.join(dir, 'data'), DATABASE_URL: t.url, PORT: '0', HOST: '127.0.0.1', SECRET_KEY: 'k'.repeat(40),
      TLS_CERT: path.join(dir, 'tls', 'server.pem'), TLS_KEY: path.join(dir, 'tls', 'server.key'), TLS_CA: path.join(dir, 'tls', 'ca.pem'),
    });
    url = await waitForListening(s);
  });

  after(async () => {
    if (s) {
      s.child.kill('SIGTERM');
      await s.exited;
    }
    await t?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers HTTPS with a certificate the store CA vouches for, and no plain HTTP on that port', async () => {
    assert.match(url, /^https:\/\//);
    const health = await get(`${url}/healthz`, ca);
    assert.equal(health.status, 200);
    await assert.rejects(get(`${url}/healthz`), /self-signed|unable to verify|certificate/i, 'without the CA the certificate is not trusted');
    await assert.rejects(get(`${url.replace('https:', 'http:')}/healthz`), 'plain HTTP is not served on the HTTPS port');
  });

  it('marks every cookie Secure, and says HSTS', async () => {
    const page = await get(`${url}/pair`, ca);
    assert.equal(page.status, 200);
    const cookies = page.headers['set-cookie'] ?? [];
    assert.ok(cookies.length > 0, 'the pairing page sets its cookies');
    for (const c of cookies) assert.match(c, /;\s*secure/i, c);
    assert.match(String(page.headers['strict-transport-security']), /max-age=\d+/);
  });

  it('offers the store CA for download on the pairing page', async () => {
    const page = await get(`${url}/pair`, ca);
    assert.match(page.body, /href="\/ca\.pem"/);
    const pem = await get(`${url}/ca.pem`, ca);
    assert.equal(pem.status, 200);
    assert.equal(pem.body, ca.toString());
    assert.match(String(pem.headers['content-disposition']), /attachment; filename="store-ca\.pem"/);
  });
});
