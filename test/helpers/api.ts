import assert from 'node:assert/strict';
import Ajv2020 from 'ajv/dist/2020';
import type { ValidateFunction } from 'ajv';
import type { orderJson, paymentJson, productJson } from '../../server/api/serialize';
import type { ModifierGroup } from '../../server/catalog/queries';
import type { JournalEntry } from '../../server/journal/service';

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }>; 'x-scope'?: string }>>;
  components: { schemas: Record<string, object> };
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  errors?: Array<{ field: string; message: string }>;
}
export type OrderJson = ReturnType<typeof orderJson>;
export type PaymentJson = ReturnType<typeof paymentJson>;
export type ProductJson = ReturnType<typeof productJson>;
export type ProductDetail = ProductJson & { modifierGroups: ModifierGroup[] };
export interface RefundJson { id: number; orderId: number; paymentId: number; total: number; taxTotal: number; receiptNo: number; reason: string; createdAt: string }
export interface WebhookJson { id: number; url: string; events: string[]; active: boolean; createdAt: string; secret?: string }
export interface Items<T> { items: T[] }
export interface JournalPage { entries: JournalEntry[]; nextAfterSeq: number }
export interface SendJson { order: OrderJson; tickets: Array<{ id: number; stationId: number }> }

/** An answer; `T` is what the test expects on success (the schema check already ran), a Problem otherwise. */
export interface ApiReply<T = Problem> {
  status: number;
  headers: Headers;
  body: T;
}

/**
 * Calls /api/v1 and checks every answer against the OpenAPI document with ajv: the status must be
 * one the document lists for that path and method, and the body must validate against its
 * schema. Records what was exercised so a test can require that every listed status was.
 */
export class ApiRecorder {
  readonly seen = new Set<string>();
  private validators = new Map<string, ValidateFunction>();
  private ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });

  constructor(readonly base: string, readonly doc: Doc) {
    this.ajv.addSchema({ $id: 'doc', components: doc.components } as object);
  }

  static async load(base: string): Promise<ApiRecorder> {
    const res = await fetch(`${base}/api/v1/openapi.json`);
    assert.equal(res.status, 200);
    return new ApiRecorder(base, (await res.json()) as Doc);
  }

  template(path: string): string {
    const bare = path.split('?')[0].replace(/^\/api\/v1/, '');
    for (const t of Object.keys(this.doc.paths)) {
      const re = new RegExp('^' + t.replace(/\{[^}]+\}/g, '[^/]+') + '$');
      if (re.test(bare)) return t;
    }
    throw new Error(`no path in the OpenAPI document matches ${bare}`);
  }

  /** Every (path, method, status) the document lists. */
  listed(): string[] {
    const out: string[] = [];
    for (const [p, ops] of Object.entries(this.doc.paths)) for (const [m, op] of Object.entries(ops)) for (const s of Object.keys(op.responses)) out.push(`${m.toUpperCase()} ${p} ${s}`);
    return out.sort();
  }

  async call<T = Problem>(method: string, path: string, opts: { token?: string; json?: unknown; raw?: string; headers?: Record<string, string> } = {}): Promise<ApiReply<T>> {
    const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    let body: string | undefined = opts.raw;
    if (opts.json !== undefined) body = JSON.stringify(opts.json);
    if (body !== undefined && !headers['Content-Type']) headers['Content-Type'] = 'application/json';
    const res = await fetch(`${this.base}/api/v1${path}`, { method, headers, body });
    const text = await res.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    const t = this.template(path);
    const op = this.doc.paths[t]?.[method.toLowerCase()];
    assert.ok(op, `${method} ${t} is not in the document`);
    const spec = op.responses[String(res.status)];
    assert.ok(spec, `${method} ${t} answered ${res.status}, which the document does not list: ${text.slice(0, 300)}`);
    const [mediaType, media] = Object.entries(spec.content ?? {})[0] ?? [];
    if (media) {
      assert.ok(res.headers.get('content-type')?.startsWith(mediaType!), `${method} ${t} ${res.status}: content-type ${res.headers.get('content-type')} ≠ ${mediaType}`);
      const key = `${method} ${t} ${res.status}`;
      let v = this.validators.get(key);
      if (!v) {
        v = this.ajv.compile(rewriteRefs(media.schema) as object);
        this.validators.set(key, v);
      }
      assert.ok(v(parsed), `${key} body does not match the document: ${this.ajv.errorsText(v.errors)}\n${text.slice(0, 500)}`);
    }
    this.seen.add(`${method.toUpperCase()} ${t} ${res.status}`);
    return { status: res.status, headers: res.headers, body: parsed as T };
  }
}

function rewriteRefs(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(rewriteRefs);
  if (s && typeof s === 'object') {
    return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' ? v.replace(/^#/, 'doc#') : rewriteRefs(v)]));
  }
  return s;
}
