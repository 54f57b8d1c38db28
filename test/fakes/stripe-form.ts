/**
 * Stripe's request bodies and query strings: form-encoded with bracket nesting, as the stripe SDK
 * sends them (`metadata[order_id]=7`, `expand[0]=latest_charge`, `process_config[tipping][amount_eligible]=500`).
 */
export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type Form = { [key: string]: FormValue };

export function parseForm(text: string): Form {
  const out: Form = {};
  for (const [rawKey, value] of new URLSearchParams(text)) {
    const m = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(rawKey);
    const path = m ? [m[1], ...[...m[2].matchAll(/\[([^[\]]*)\]/g)].map((x) => x[1])] : [rawKey];
    let node: { [key: string]: FormValue } = out;
    for (let i = 0; i < path.length; i++) {
      const key = path[i];
      const last = i === path.length - 1;
      const nextIsIndex = !last && /^\d*$/.test(path[i + 1]);
      if (last) {
        if (Array.isArray(node)) (node as FormValue[]).push(value);
        else node[key] = value;
        break;
      }
      if (Array.isArray(node)) {
        const arr = node as FormValue[];
        const child = nextIsIndex ? [] : {};
        arr.push(child);
        node = child as { [key: string]: FormValue };
        continue;
      }
      node[key] ??= nextIsIndex ? [] : {};
      node = node[key] as { [key: string]: FormValue };
    }
  }
  return out;
}

/** What a parameter may hold: a scalar, a list of scalars, free keys (metadata), or known nested keys. */
export type ParamSpec = 'scalar' | 'list' | 'map' | { [key: string]: ParamSpec };

/** The first parameter Stripe would not know, as Stripe names it (`process_config[foo]`), or null. */
export function unknownParam(form: Form, spec: { [key: string]: ParamSpec }, prefix = ''): string | null {
  for (const [key, value] of Object.entries(form)) {
    const name = prefix ? `${prefix}[${key}]` : key;
    const s = spec[key];
    if (!s) return name;
    if (typeof s === 'object') {
      if (typeof value !== 'object' || Array.isArray(value)) return name;
      const inner = unknownParam(value, s, name);
      if (inner) return inner;
    } else if (s === 'scalar' && typeof value !== 'string') return name;
    else if (s === 'list' && !Array.isArray(value)) return name;
    else if (s === 'map' && (typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string'))) return name;
  }
  return null;
}

export const str = (v: FormValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
export const int = (v: FormValue | undefined): number | undefined => (typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : undefined);
export const map = (v: FormValue | undefined): Record<string, string> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, string>) : {});
