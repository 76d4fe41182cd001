// Valid requests to the fuzzer's known pages (fast-check arbitraries), how
// they are put on the wire, and what a correct answer to them looks like.
import fc from 'fast-check';

/** What a known page answers with 200. */
const PAGES = [
  { method: 'GET', path: '/hello.py', body: 'Hello, World!' },
  { method: 'GET', path: '/style.css', body: 'body { color: #333; }\n' },
  { method: 'GET', path: '/-/health', body: 'ok\n' },
  { method: 'POST', path: '/body_len.py', body: null }, // answers the body's length
] as const;

/**
 * Bodies a 2xx may carry here: a known page's, body_len.py's number, or the development mode's
 * listing of a folder (a mutation can cut a target down to `/`). A 2xx with anything else is a desync.
 */
export function plausibleBody(body: string): boolean {
  return PAGES.some((p) => p.body === body) || /^\d+$/.test(body) || /^Index of \/[^\n]*\n/.test(body);
}

export interface Request {
  method: string;
  target: string;
  version: '1.0' | '1.1';
  fields: string[]; // "Name: value", framing fields included
  body: Buffer; // as sent (chunked already encoded)
  expectBody: string; // what the page answers with 200
}

export type Kind = 'valid' | 'mutated' | 'malformed';

export interface FuzzCase {
  kind: Kind;
  label: string;
  bytes: Buffer;
  /** Half-close right after sending. */
  fin: boolean;
  /** valid: every response, in order. malformed: the answers to the valid requests before the malformed one. */
  expect: string[];
  /** malformed: the framing is broken, so the connection must close after the refusal. */
  mustClose: boolean;
}

export const token = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,11}$/);
const fieldValue = fc.stringMatching(/^[!-~]([ !-~]{0,20}[!-~])?$/);
// "X-" names: extra fields never change the framing or the connection.
const extraFields = fc.array(
  fc.tuple(token, fieldValue).map(([n, v]) => `X-${n}: ${v}`),
  { maxLength: 3 },
);

/** `body` in chunked coding, cut into chunks of the given sizes (the rest in one more chunk). */
export function chunk(body: Buffer, sizes: number[]): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (const s of sizes) {
    if (at >= body.length) break;
    const piece = body.subarray(at, at + Math.max(1, s));
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
    at += piece.length;
  }
  if (at < body.length)
    parts.push(Buffer.from(`${(body.length - at).toString(16)}\r\n`), body.subarray(at), Buffer.from('\r\n'));
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

/** A valid request to one of the known pages; with keepAlive it does not ask to close. */
export const request = (keepAlive: boolean) =>
  fc
    .record({
      page: fc.constantFrom(...PAGES),
      version: fc.constantFrom('1.1', '1.1', '1.0') as fc.Arbitrary<'1.0' | '1.1'>,
      absolute: fc.boolean(),
      extra: extraFields,
      data: fc.uint8Array({ maxLength: 400 }),
      chunked: fc.boolean(),
      sizes: fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 4 }),
      close: fc.boolean(),
    })
    .map((r): Request => {
      const fields = [...(r.version === '1.1' ? ['Host: 127.0.0.1'] : []), ...r.extra];
      let body: Buffer = Buffer.alloc(0);
      if (r.page.method === 'POST') {
        body = Buffer.from(r.data);
        if (r.chunked && r.version === '1.1') {
          fields.push('Transfer-Encoding: chunked');
          body = chunk(body, r.sizes);
        } else {
          fields.push(`Content-Length: ${body.length}`);
        }
      }
      if (keepAlive && r.version === '1.0') fields.push('Connection: keep-alive');
      if (!keepAlive && r.close) fields.push('Connection: close');
      return {
        method: r.page.method,
        target: r.absolute ? `http://localhost${r.page.path}` : r.page.path,
        version: r.version,
        fields,
        body,
        expectBody: r.page.body ?? String(r.data.length),
      };
    });

/** The request's bytes; `eols[i]` replaces the CRLF after line i (the request line is 0). */
export function serialize(r: Request, eols: string[] = []): Buffer {
  const lines = [`${r.method} ${r.target} HTTP/${r.version}`, ...r.fields, ''];
  return Buffer.concat([Buffer.from(lines.map((l, i) => l + (eols[i] ?? '\r\n')).join(''), 'latin1'), r.body]);
}
