import assert from 'node:assert/strict';
import { bootApp, type TestApp } from '../helpers/app';
import type { Problem } from '../helpers/api';
import { createTestDb, type TestDb } from '../helpers/pg';
import { API_SCOPES, createApiToken } from '../../server/api/tokens';
import { FakeClock } from '../helpers/clock';

type Doc = { paths: Record<string, Record<string, unknown>> };

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const allowOf = (res: Response) => (res.headers.get('allow') ?? '').split(',').map((m) => m.trim()).filter(Boolean).sort();

describe('an API path called with a method it does not have (/api/v1)', function () {
  this.timeout(60_000);
  let t: TestDb;
  let app: TestApp;
  let token: string;
  let doc: Doc;
  before(async () => {
    t = await createTestDb();
    app = await bootApp(t.db);
    token = (await createApiToken(t.db, new FakeClock(), { name: 'Web shop', scopes: [...API_SCOPES] })).token;
    doc = (await (await fetch(`${app.url}/api/v1/openapi.json`)).json()) as Doc;
  });
  after(async () => {
    await app.close();
    await t.drop();
  });

  const call = (method: string, path: string, auth = true) =>
    fetch(`${app.url}/api/v1${path}`, { method, headers: { Accept: 'application/json', ...(auth ? { Authorization: `Bearer ${token}` } : {}) } });

  it('answers 405 as problem+json with an Allow header naming the methods the path has (DELETE /orders)', async () => {
    for (const auth of [true, false]) {
      const res = await call('DELETE', '/orders', auth);
      assert.equal(res.status, 405, `with${auth ? '' : 'out'} a token`);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.deepEqual(allowOf(res), ['POST']);
      const body = (await res.json()) as Problem;
      assert.equal(body.type, '/problems/method-not-allowed');
      assert.equal(body.status, 405);
      assert.match(body.title, /DELETE/);
    }
  });

  it('does so on every path of the OpenAPI document, its Allow header listing what the document lists there', async () => {
    for (const [template, ops] of Object.entries(doc.paths)) {
      const path = template.replace(/\{\w+\}/g, '1');
      const documented = Object.keys(ops).map((m) => m.toUpperCase());
      const missing = METHODS.find((m) => !documented.includes(m));
      assert.ok(missing, `${template} has every method`);
      const res = await call(missing, path);
      assert.equal(res.status, 405, `${missing} ${template}`);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, `${missing} ${template}`);
      const expected = [...documented, ...(documented.includes('GET') ? ['HEAD'] : [])].sort();
      assert.deepEqual(allowOf(res), expected, `Allow of ${template}`);
      assert.deepEqual(await res.json(), { type: '/problems/method-not-allowed', title: `${missing} is not allowed on /api/v1${path}; it allows ${res.headers.get('allow')}.`, status: 405 });
    }
  });

  it('still answers 404 for a path the API does not have, and the methods it has as before', async () => {
    const unknown = await call('DELETE', '/no-such-thing');
    assert.equal(unknown.status, 404);
    assert.match(unknown.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(((await unknown.json()) as Problem).type, '/problems/not-found');
    const missing = await call('GET', '/orders/999999');
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as Problem).type, '/problems/not-found');
    assert.equal((await call('GET', '/products')).status, 200);
  });

  it('answers a method no route knows (PROPFIND) with 501 as problem+json', async () => {
    const res = await call('PROPFIND', '/orders');
    assert.equal(res.status, 501);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.deepEqual(await res.json(), { type: '/problems/not-implemented', title: 'PROPFIND is not a method this server knows.', status: 501 });
  });
});
