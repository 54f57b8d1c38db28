import { Browser } from './http';
import type { ServerProcess } from './server';
import type { SocketPool } from './wire';

/**
 * The bench's store, set up as its owner would set it up, through the server's public surfaces
 * only: the pairing code `start --demo` prints, the back office's forms, the /api/v1 catalog. So
 * the same code sets up any version of the server, whatever its tables and services look like.
 */

/** The demo staff PINs (server/demo/data.ts). */
export const PINS = { owner: '1111', manager: '2222', cashier: '3333', server: '4444' } as const;

/** One line of a sale: a product and a valid choice of its modifiers. */
export interface LineRecipe {
  productId: number;
  name: string;
  modifierIds: number[];
  stationId: number | null;
}

export type TerminalKind = 'counter' | 'kitchen';

/** A browser paired with `code` (GET /pair, POST /pair) and, with a PIN, logged in (GET /login, POST /login). */
export async function pairBrowser(baseUrl: string, agent: SocketPool, code: string, opts: { name: string; pin?: string }): Promise<Browser> {
  const b = new Browser(baseUrl, agent, opts.name);
  await b.get('/pair', { htmx: false, keepBody: true });
  const paired = await b.post('/pair', { code }, { keepBody: true });
  if (paired.status !== 204) throw new Error(`pairing ${opts.name}: ${paired.status} ${paired.text.slice(0, 300)}`);
  if (opts.pin) {
    await b.get('/login', { htmx: false, keepBody: true });
    const r = await b.post('/login', { pin: opts.pin }, { keepBody: true });
    if (r.status !== 204) throw new Error(`login on ${opts.name}: ${r.status} ${r.text.slice(0, 300)}`);
  }
  return b;
}

export class Store {
  private constructor(readonly baseUrl: string, private readonly agent: SocketPool, readonly owner: Browser) {}

  /** The owner's browser: paired with the code the server printed at `start --demo`, logged in with the owner's PIN. */
  static async open(server: Pick<ServerProcess, 'url' | 'pairingCode'>, agent: SocketPool): Promise<Store> {
    const code = await server.pairingCode();
    const owner = await pairBrowser(server.url, agent, code, { name: 'Bench owner', pin: PINS.owner });
    return new Store(server.url, agent, owner);
  }

  /**
   * A one-time code for a new terminal, made in the back office (Terminals → pairing code), as an
   * owner adds a till.
   */
  async pairingCode(name: string, kind: TerminalKind): Promise<string> {
    const r = await this.owner.post('/backoffice/terminals/pairing-codes', { name, kind }, { keepBody: true });
    const m = /id="the-code">\s*([^<\s]+)\s*</.exec(r.text);
    if (r.status !== 200 || !m) throw new Error(`a pairing code for ${name}: ${r.status} ${r.text.replace(/\s+/g, ' ').slice(0, 300)}`);
    return m[1];
  }

  /** `n` new terminals, each paired with a code of its own and (with a PIN) logged in. */
  async pair(n: number, opts: { kind: TerminalKind; pin?: string; prefix: string; parallel?: number }): Promise<Browser[]> {
    const out: Browser[] = new Array(n);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < n; i = next++) {
        const name = `${opts.prefix} ${i + 1}`;
        out[i] = await pairBrowser(this.baseUrl, this.agent, await this.pairingCode(name, opts.kind), { name, pin: opts.pin });
      }
    };
    await Promise.all(Array.from({ length: Math.min(n, opts.parallel ?? 8) }, worker));
    return out;
  }

  /**
   * Terminals stay logged in between the bench's phases: the idle lock raised to its maximum in
   * Settings (the form read, the one field changed, the form sent back).
   */
  async raiseIdleLock(seconds = 86_400): Promise<void> {
    const page = await this.owner.get('/backoffice/settings', { htmx: false, keepBody: true });
    if (page.status !== 200) throw new Error(`GET /backoffice/settings: ${page.status}`);
    const fields = formFields(page.text, 'settings-form');
    if (!fields.some(([k]) => k === 'idleLockSeconds')) throw new Error('the settings form has no idleLockSeconds field');
    const form: Record<string, string[]> = {};
    for (const [k, v] of fields) (form[k] ??= []).push(k === 'idleLockSeconds' ? String(seconds) : v);
    const r = await this.owner.post('/backoffice/settings', form, { htmx: false, keepBody: true });
    // saved is what the form shows when read again, however the answer says it
    const after = await this.owner.get('/backoffice/settings', { htmx: false, keepBody: true });
    const now = formFields(after.text, 'settings-form').find(([k]) => k === 'idleLockSeconds')?.[1];
    if (now !== String(seconds)) throw new Error(`POST /backoffice/settings: ${r.status}, the idle lock is still ${now}: ${r.text.replace(/\s+/g, ' ').slice(0, 300)}`);
  }

  /**
   * Lines a counter sale can be made of: every sellable product with modifier groups, each with
   * a valid choice (a required group gets its minimum, the first optional group one option), read
   * from the integration API with a token the owner makes in the back office.
   */
  async lineRecipes(): Promise<LineRecipe[]> {
    const made = await this.owner.post('/backoffice/integrations/tokens', { name: 'Bench catalog reader', scopes: 'catalog:read' }, { htmx: false, keepBody: true });
    const m = /id="new-token">\s*([^<\s]+)\s*</.exec(made.text);
    if (made.status !== 200 || !m) throw new Error(`an API token: ${made.status} ${made.text.replace(/\s+/g, ' ').slice(0, 300)}`);
    const api = new Browser(this.baseUrl, this.agent, 'Bench API client');
    const get = async <T>(p: string): Promise<T> => {
      const r = await api.get(p, { htmx: false, keepBody: true, headers: { Authorization: `Bearer ${m[1]}`, Accept: 'application/json' } });
      if (r.status !== 200) throw new Error(`GET ${p}: ${r.status} ${r.text.slice(0, 200)}`);
      return JSON.parse(r.text) as T;
    };
    type Product = { id: number; name: string; stationId: number | null; available: boolean; openPrice: boolean; active?: boolean };
    type Group = { min: number; max: number; modifiers: Array<{ id: number }> };
    const { items } = await get<{ items: Product[] }>('/api/v1/products');
    const out: LineRecipe[] = [];
    for (const [i, p] of items.filter((x) => x.available && !x.openPrice && x.active !== false).sort((a, b) => a.id - b.id).entries()) {
      const { modifierGroups: groups = [] } = await get<{ modifierGroups?: Group[] }>(`/api/v1/products/${p.id}`);
      const modifierIds: number[] = [];
      let optionalTaken = false;
      for (const g of groups) {
        if (!g.modifiers.length) continue;
        let want = g.min;
        if (want === 0 && !optionalTaken && g.max >= 1) {
          want = 1;
          optionalTaken = true;
        }
        for (let k = 0; k < Math.min(want, g.modifiers.length); k++) modifierIds.push(g.modifiers[(i + k) % g.modifiers.length].id);
      }
      if (modifierIds.length) out.push({ productId: p.id, name: p.name, modifierIds, stationId: p.stationId });
    }
    api.close();
    if (out.length < 4) throw new Error(`the store has only ${out.length} products with modifiers; the bench needs 4 (was the demo seeded?)`);
    return out;
  }
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (all, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : Number(e.slice(1)));
    return ENTITIES[e.toLowerCase()] ?? all;
  });
}

function attrs(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
    out.set(m[1].toLowerCase(), decodeEntities(m[2] ?? m[3] ?? m[4] ?? ''));
  }
  return out;
}

/**
 * What a browser would submit for the form with id `formId`: its named inputs (checkboxes and
 * radios only when checked), textareas and selects (the selected option), in document order.
 */
export function formFields(html: string, formId: string): Array<[string, string]> {
  const at = html.search(new RegExp(`<form\\b[^>]*\\bid="${formId}"`));
  if (at < 0) throw new Error(`no form #${formId} on the page`);
  const end = html.indexOf('</form>', at);
  const body = html.slice(at, end < 0 ? undefined : end);
  const out: Array<{ at: number; name: string; value: string }> = [];
  for (const m of body.matchAll(/<input\b([^>]*)>/gi)) {
    const a = attrs(m[1]);
    const name = a.get('name');
    const type = (a.get('type') ?? 'text').toLowerCase();
    if (!name || ['submit', 'button', 'image', 'reset', 'file'].includes(type)) continue;
    if ((type === 'checkbox' || type === 'radio') && !a.has('checked')) continue;
    out.push({ at: m.index!, name, value: a.get('value') ?? (type === 'checkbox' || type === 'radio' ? 'on' : '') });
  }
  for (const m of body.matchAll(/<textarea\b([^>]*)>([\s\S]*?)<\/textarea>/gi)) {
    const name = attrs(m[1]).get('name');
    // a browser drops one newline right after the opening tag
    if (name) out.push({ at: m.index!, name, value: decodeEntities(m[2].replace(/^\r?\n/, '')) });
  }
  for (const m of body.matchAll(/<select\b([^>]*)>([\s\S]*?)<\/select>/gi)) {
    const name = attrs(m[1]).get('name');
    if (!name) continue;
    const options = [...m[2].matchAll(/<option\b([^>]*)>([\s\S]*?)(?=<option\b|$)/gi)].map((o) => ({ a: attrs(o[1]), text: o[2].replace(/<\/option>[\s\S]*$/i, '').trim() }));
    const chosen = options.find((o) => o.a.has('selected')) ?? options[0];
    if (chosen) out.push({ at: m.index!, name, value: chosen.a.get('value') ?? decodeEntities(chosen.text) });
  }
  return out.sort((x, y) => x.at - y.at).map((f) => [f.name, f.value]);
}
