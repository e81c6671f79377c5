/** A small oneM2M-over-HTTP request helper for integration tests. */
let counter = 0;

export interface Reply {
  status: number;
  rsc: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface Req {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  fr?: string;
  ty?: number;
  body?: unknown;
  headers?: Record<string, string | undefined>;
}

export function client(base: string) {
  return async function request(r: Req): Promise<Reply> {
    const headers: Record<string, string> = {
      'X-M2M-RI': `rq${++counter}`,
      'X-M2M-RVI': '3',
      Accept: 'application/json',
    };
    if (r.fr !== undefined) headers['X-M2M-Origin'] = r.fr;
    let body: string | undefined;
    if (r.body !== undefined) {
      body = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
      headers['Content-Type'] = r.ty === undefined ? 'application/json' : `application/json;ty=${r.ty}`;
    }
    for (const [k, v] of Object.entries(r.headers ?? {})) {
      if (v === undefined) delete headers[k];
      else headers[k] = v;
    }
    const res = await fetch(base + r.path, {
      method: r.method ?? (r.body !== undefined ? 'POST' : 'GET'),
      headers,
      body,
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    return { status: res.status, rsc: Number(res.headers.get('x-m2m-rsc')), headers: res.headers, body: parsed };
  };
}
