/** Small HTTP client helpers that speak like a browser's htmx requests. */
export interface Reply {
  status: number;
  headers: Headers;
  text: string;
}

export async function hxPost(url: string, form: Record<string, string | string[]> = {}, headers: Record<string, string> = {}): Promise<Reply> {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'HX-Request': 'true', 'HX-Request-Type': 'partial', 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body,
    redirect: 'manual',
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

export async function hxGet(url: string, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(url, { headers: { 'HX-Request': 'true', 'HX-Request-Type': 'partial', ...headers }, redirect: 'manual' });
  return { status: res.status, headers: res.headers, text: await res.text() };
}
