// Malformed requests for the fuzzer: each breaks one rule after which RFC
// 9112 (or issue 10) wants a refusal (4xx/5xx) or a closed connection, never
// a page's answer. Framing errors must also close the connection (RFC 9112
// section 6.3). Optionally a valid request goes first on the same connection:
// its answer must come, and come first.
import fc from 'fast-check';
import { chunk, request, serialize, type FuzzCase, type Request } from './fuzz-requests.js';

interface Made {
  label: string;
  bytes: Buffer;
  mustClose: boolean;
}

const data = fc.uint8Array({ minLength: 1, maxLength: 200 }).map((u) => Buffer.from(u));

// Pages that read the body. Only these cases use the last two, so with the fuzz server's short
// idle-timeout they are often cold: no worker yet when the broken body arrives (issue 10's crash).
const UPLOAD_PAGES = ['/body_len.py', '/count_upload.py', '/echo.py'];

function post(fields: string[], body: Buffer, version = '1.1', page = 0): Buffer {
  return Buffer.concat([
    Buffer.from(
      `POST ${UPLOAD_PAGES[page % UPLOAD_PAGES.length]} HTTP/${version}\r\n${fields.map((f) => `${f}\r\n`).join('')}\r\n`,
      'latin1',
    ),
    body,
  ]);
}

const made = (label: string, bytes: Buffer, mustClose: boolean): Made => ({ label, bytes, mustClose });

/** A framing case on one of the upload pages. */
const onPage = (arb: fc.Arbitrary<(page: number) => Made>) => fc.tuple(arb, fc.nat()).map(([make, page]) => make(page));

/** Broken body framing: the request's end cannot be known, so the connection must close. */
const framing: fc.Arbitrary<Made>[] = [
  onPage(
    fc.record({ body: data, flip: fc.boolean() }).map(({ body, flip }) => (page: number) => {
      const both = [`Content-Length: ${body.length}`, 'Transfer-Encoding: chunked'];
      return made(
        'Content-Length and Transfer-Encoding',
        post(['Host: 127.0.0.1', ...(flip ? both.reverse() : both)], chunk(body, []), '1.1', page),
        true,
      );
    }),
  ),
  onPage(
    fc.record({ body: data, delta: fc.integer({ min: 1, max: 9 }) }).map(
      ({ body, delta }) =>
        (page: number) =>
          made(
            'two different Content-Length',
            post(
              ['Host: 127.0.0.1', `Content-Length: ${body.length}`, `Content-Length: ${body.length + delta}`],
              body,
              '1.1',
              page,
            ),
            true,
          ),
    ),
  ),
  onPage(
    fc
      .constantFrom('+5', '-5', '1 0', '0x5', '', '5a', '5.0', '99999999999999999999999', '5,6')
      .map(
        (v) => (page: number) =>
          made(
            `Content-Length "${v}"`,
            post(['Host: 127.0.0.1', `Content-Length: ${v}`], Buffer.from('hello'), '1.1', page),
            true,
          ),
      ),
  ),
  onPage(
    fc
      .constantFrom('gzip', 'identity', 'chunked, gzip', 'xchunked', 'chunked, chunked', 'deflate', 'chunked x')
      .map(
        (v) => (page: number) =>
          made(
            `Transfer-Encoding "${v}"`,
            post(['Host: 127.0.0.1', `Transfer-Encoding: ${v}`], chunk(Buffer.from('hello'), []), '1.1', page),
            true,
          ),
      ),
  ),
  onPage(
    fc.record({ body: data, keepAlive: fc.boolean() }).map(
      ({ body, keepAlive }) =>
        (page: number) =>
          made(
            'chunked in HTTP/1.0',
            post(
              ['Transfer-Encoding: chunked', ...(keepAlive ? ['Connection: keep-alive'] : [])],
              chunk(body, []),
              '1.0',
              page,
            ),
            true,
          ),
    ),
  ),
  onPage(
    fc
      .constantFrom('zz', '-1', ' 5', 'ffffffffffffffffffffff', '5 x', '0x5', '+5', '', '5;', '5\0')
      .map(
        (size) => (page: number) =>
          made(
            `chunk size "${JSON.stringify(size).slice(1, -1)}"`,
            post(
              ['Host: 127.0.0.1', 'Transfer-Encoding: chunked'],
              Buffer.from(`${size}\r\nhello\r\n0\r\n\r\n`, 'latin1'),
              '1.1',
              page,
            ),
            true,
          ),
      ),
  ),
  onPage(
    fc
      .integer({ min: 1, max: 4 })
      .map(
        (short) => (page: number) =>
          made(
            'chunk data longer than its size',
            post(
              ['Host: 127.0.0.1', 'Transfer-Encoding: chunked'],
              Buffer.from(`${5 - short}\r\nhello\r\n0\r\n\r\n`),
              '1.1',
              page,
            ),
            true,
          ),
      ),
  ),
];

/** A valid HTTP/1.1 request (with Host) to break in its head. */
const base = request(false).map(
  (r): Request =>
    r.version === '1.1'
      ? r
      : {
          ...r,
          version: '1.1',
          fields: ['Host: 127.0.0.1', ...r.fields.filter((f) => !/^transfer-encoding/i.test(f))],
        },
);

const edit = (label: string, change: (r: Request, n: number) => Request | Buffer) =>
  fc.record({ r: base, n: fc.nat() }).map(({ r, n }) => {
    const out = change(r, n);
    return made(label, Buffer.isBuffer(out) ? out : serialize(out), false);
  });

const field = (r: Request, n: number) => n % r.fields.length;
const withField = (r: Request, n: number, f: (line: string) => string): Request => ({
  ...r,
  fields: r.fields.map((l, i) => (i === field(r, n) ? f(l) : l)),
});
const badNameChars = ['(', ')', '/', '@', '[', '"', '{', ' ', '\x7f', '\xe9', '\0'];

/** Broken heads: refused, but the connection may stay open (Node closes it anyway). */
const heads: fc.Arbitrary<Made>[] = [
  edit('obs-fold', (r, n) => ({
    ...r,
    fields: r.fields.flatMap((l, i) => (i === field(r, n) ? [l, ' folded'] : [l])),
  })),
  edit('bare LF', (r, n) => serialize(r, Object.assign([], { [n % (r.fields.length + 2)]: '\n' }))),
  edit('bare CR', (r, n) => serialize(r, Object.assign([], { [n % (r.fields.length + 1)]: '\r' }))),
  edit('NUL in a field value', (r, n) => withField(r, n, (l) => `${l}\0x`)),
  edit('whitespace before the colon', (r, n) => withField(r, n, (l) => l.replace(':', n % 2 ? ' :' : '\t:'))),
  edit('invalid character in a field name', (r, n) =>
    withField(r, n, (l) => `${badNameChars[n % badNameChars.length]}${l}`),
  ),
  fc
    .record({ r: base, size: fc.integer({ min: 17_000, max: 40_000 }) })
    .map(({ r, size }) =>
      made(
        'a field over max-header-size',
        serialize({ ...r, fields: [...r.fields, `X-Big: ${'a'.repeat(size)}`] }),
        false,
      ),
    ),
  edit('two Host fields', (r, n) => ({
    ...r,
    fields: [...r.fields, n % 2 ? 'Host: other.example' : 'Host: 127.0.0.1'],
  })),
  edit('no Host in HTTP/1.1', (r) => ({ ...r, fields: r.fields.filter((f) => !/^host:/i.test(f)) })),
  edit('invalid Host value', (r, n) => ({
    ...r,
    fields: r.fields.map((f) => (/^host:/i.test(f) ? `Host: ${['a b', 'a, b', 'a/b', 'a@b', 'a\tb'][n % 5]}` : f)),
  })),
  edit('invalid method', (r, n) => ({ ...r, method: ['G(T', 'get', 'GE\0T', 'G\xe9T', 'GET/'][n % 5] })),
  edit('unsupported or invalid version', (r, n) =>
    Buffer.from(
      serialize(r)
        .toString('latin1')
        .replace(
          'HTTP/1.1\r\n',
          `${['HTTP/2.0', 'HTTP/3.0', 'http/1.1', 'HTTP/1.1x', 'HTTP/11', 'HTTP/1', 'HTTP/1.1 '][n % 7]}\r\n`,
        ),
      'latin1',
    ),
  ),
  edit('invalid target', (r, n) => ({
    ...r,
    target: [`${r.target} x`, `${r.target}\x01`, `${r.target}\x7f`, '', `/\0`][n % 5],
  })),
  edit('whitespace before the request line', (r, n) => Buffer.concat([Buffer.from(n % 2 ? ' ' : '\t'), serialize(r)])),
  edit('whitespace before the first field', (r) => ({ ...r, fields: [` ${r.fields[0]}`, ...r.fields.slice(1)] })),
];

export const malformedCase: fc.Arbitrary<FuzzCase> = fc
  .record({
    first: fc.option(request(true), { freq: 3 }),
    broken: fc.oneof(...framing, ...heads),
    fin: fc.boolean(),
  })
  .map(({ first, broken, fin }) => ({
    kind: 'malformed',
    label: `${first ? 'valid, then ' : ''}${broken.label}`,
    bytes: Buffer.concat([first ? serialize(first) : Buffer.alloc(0), broken.bytes]),
    fin,
    expect: first ? [first.expectBody] : [],
    mustClose: broken.mustClose,
  }));
