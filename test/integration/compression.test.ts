// Compression of static files (and, opted in, of pages): per Accept-Encoding,
// with Vary, never for ranges, tiny files or types that do not compress.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, startTestServer, type TestServer } from '../helpers.js';

const css = Buffer.from(
  Array.from({ length: 200 }, (_, i) => `.item-${i} { color: #${(i * 4099).toString(16).padStart(6, '0')}; }\n`).join(
    '',
  ),
);
/** 1 MiB of varied text: streamed, not from memory. */
const text = Buffer.from(
  Array.from({ length: 30_000 }, (_, i) => `line ${i}: ${(i * 2654435761) % 1000003} lorem ipsum\n`).join(''),
).subarray(0, 1024 * 1024);

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
  writeFileSync(join(s.root, 'big.css'), css);
  writeFileSync(join(s.root, 'tiny.css'), 'a{}\n');
  writeFileSync(join(s.root, 'large.txt'), text);
  writeFileSync(join(s.root, 'pic.png'), Buffer.alloc(4096, 1));
});
afterAll(() => s.stop());

const get = (path: string, headers = '', method = 'GET') => rawRequest(s.port, method, path, headers);

describe.each([
  { way: 'from memory', path: '/big.css', body: css },
  { way: 'streamed', path: '/large.txt', body: text },
])('a compressible file, $way', ({ path, body }) => {
  it('is sent with brotli or gzip as the client accepts, with Vary and a weak ETag', async () => {
    const br = await get(path, 'Accept-Encoding: gzip, deflate, br\r\n');
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toBe('Accept-Encoding');
    expect(Number(br.headers['content-length'])).toBe(br.body.length);
    expect(br.body.length).toBeLessThan(body.length / 2);
    expect(brotliDecompressSync(br.body).equals(body)).toBe(true);
    expect(br.headers.etag).toMatch(/^W\/"/);
    const gz = await get(path, 'Accept-Encoding: gzip\r\n');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).equals(body)).toBe(true);
  });

  it('is sent as it is without Accept-Encoding, still with Vary and its strong ETag', async () => {
    const plain = await get(path);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.vary).toBe('Accept-Encoding');
    expect(plain.headers.etag).toMatch(/^"/);
    expect(plain.body.equals(body)).toBe(true);
    expect((await get(path, 'Accept-Encoding: identity\r\n')).headers['content-encoding']).toBeUndefined();
  });

  it('answers a range from the file itself, never compressed', async () => {
    const res = await get(path, 'Accept-Encoding: br\r\nRange: bytes=10-19\r\n');
    expect(res.status).toBe(206);
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.body.equals(body.subarray(10, 20))).toBe(true);
  });

  it('answers 304 to either ETag, and HEAD with the compressed length', async () => {
    const br = await get(path, 'Accept-Encoding: br\r\n');
    const plain = await get(path);
    for (const tag of [br.headers.etag, plain.headers.etag])
      expect((await get(path, `Accept-Encoding: br\r\nIf-None-Match: ${tag}\r\n`)).status).toBe(304);
    const head = await get(path, 'Accept-Encoding: br\r\n', 'HEAD');
    expect(head.headers['content-length']).toBe(br.headers['content-length']);
    expect(head.headers['content-encoding']).toBe('br');
    expect(head.body.length).toBe(0);
  });
});

describe('what is not compressed', () => {
  it.each(['/tiny.css', '/pic.png', '/blob.bin'])('%s', async (path) => {
    const res = await get(path, 'Accept-Encoding: gzip, br\r\n');
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers.vary).toBeUndefined();
  });
});

it('sends an edited file compressed anew', async () => {
  writeFileSync(join(s.root, 'edited.css'), css);
  expect(brotliDecompressSync((await get('/edited.css', 'Accept-Encoding: br\r\n')).body).equals(css)).toBe(true);
  const changed = Buffer.concat([css, Buffer.from('.new { color: red; }\n')]);
  writeFileSync(join(s.root, 'edited.css'), changed);
  expect(brotliDecompressSync((await get('/edited.css', 'Accept-Encoding: br\r\n')).body).equals(changed)).toBe(true);
});

it('is what curl --compressed gets', async () => {
  const url = `http://127.0.0.1:${s.port}/large.txt`;
  const run = promisify(execFile);
  const { stdout } = await run('curl', ['-sS', '--max-time', '20', '--compressed', '-D', '-', '-o', '/dev/null', url]);
  expect(stdout).toMatch(/content-encoding: (br|gzip)/i);
  const { stdout: body } = await run('curl', ['-sS', '--max-time', '20', '--compressed', url], {
    encoding: 'buffer',
    maxBuffer: 4 * 1024 * 1024,
  });
  expect(body.equals(text)).toBe(true);
});

// A page answering 8 KB of text in pieces (or, with ?tiny, a few bytes; with ?png, not text).
const TEXT_PAGE = `def application(environ, start_response):
    q = environ["QUERY_STRING"]
    kind = "image/png" if q == "png" else "text/html; charset=utf-8"
    start_response("200 OK", [("Content-Type", kind), ("ETag", '"v1"')])
    if q == "tiny":
        return [b"<p>hi</p>"]
    return [(b"<p>line %d of the page</p>\\n" % i) * 10 for i in range(40)]
`;

describe('compress-pages', () => {
  let p: TestServer;
  beforeAll(async () => {
    p = await startTestServer({ compressPages: true });
    writeFileSync(join(p.root, 'text_page.py'), TEXT_PAGE);
  });
  afterAll(() => p.stop());
  const page = (query: string, headers = 'Accept-Encoding: gzip, br\r\n') =>
    rawRequest(p.port, 'GET', `/text_page.py?${query}`, headers);

  it('compresses a text page per Accept-Encoding, with Vary and a weak ETag', async () => {
    const plain = await page('', '');
    expect(plain.headers['content-encoding']).toBeUndefined();
    const br = await page('');
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toBe('Accept-Encoding');
    expect(br.headers.etag).toBe('W/"v1"');
    expect(brotliDecompressSync(br.body).equals(plain.body)).toBe(true);
    expect(br.body.length).toBeLessThan(plain.body.length / 4);
    const gz = await page('', 'Accept-Encoding: gzip\r\n');
    expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);
  });

  it('leaves tiny answers and types that do not compress alone', async () => {
    expect((await page('png')).headers['content-encoding']).toBeUndefined();
    const hello = await rawRequest(p.port, 'GET', '/hello.py', 'Accept-Encoding: gzip, br\r\n');
    expect(hello.headers['content-encoding']).toBeUndefined(); // Content-Length 13
    // No Content-Length to tell it is tiny: compressed all the same (the page could have said).
    expect(brotliDecompressSync((await page('tiny')).body).toString()).toBe('<p>hi</p>');
  });

  it('is off by default', async () => {
    const res = await rawRequest(s.port, 'GET', '/hello.py', 'Accept-Encoding: gzip, br\r\n');
    expect(res.headers['content-encoding']).toBeUndefined();
  });
});
