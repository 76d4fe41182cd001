// Byte ranges and conditional requests, the same over the three ways a file
// leaves: a static file from memory, a static file streamed, and a page's
// wsgi.file_wrapper answer (sent by Node).
import { execFile } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobBytes, rawRequest, startTestServer, type TestServer } from '../helpers.js';

// A page answering with wsgi.file_wrapper over the file named in its query, with validators as a static file has.
const RANGED_PAGE = `import os
from email.utils import formatdate

HERE = os.path.dirname(os.path.abspath(__file__))


def application(environ, start_response):
    path = os.path.join(HERE, environ["QUERY_STRING"])
    st = os.stat(path)
    f = open(path, "rb")
    start_response("200 OK", [
        ("Content-Type", "application/octet-stream"),
        ("Content-Length", str(st.st_size)),
        ("ETag", '"%x-%x"' % (st.st_size, st.st_mtime_ns)),
        ("Last-Modified", formatdate(st.st_mtime, usegmt=True)),
    ])
    return environ["wsgi.file_wrapper"](f, 65536)
`;

let s: TestServer;
const small = blobBytes().subarray(0, 5000);
beforeAll(async () => {
  s = await startTestServer();
  writeFileSync(join(s.root, 'small.bin'), small);
  writeFileSync(join(s.root, 'ranged.py'), RANGED_PAGE);
});
afterAll(() => s.stop());

const WAYS = [
  { way: 'static, from memory', path: '/small.bin', body: () => small },
  { way: 'static, streamed', path: '/blob.bin', body: blobBytes },
  { way: 'wsgi.file_wrapper', path: '/ranged.py?blob.bin', body: blobBytes },
];

describe.each(WAYS)('$way', ({ path, body }) => {
  const get = (headers = '', method = 'GET') => rawRequest(s.port, method, path, headers);
  const range = (spec: string, more = '') => get(`Range: bytes=${spec}\r\n${more}`);

  it('answers a range with 206, Content-Range and the bytes', async () => {
    const res = await range('0-99');
    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes 0-99/${body().length}`);
    expect(res.headers['content-length']).toBe('100');
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(res.body.equals(body().subarray(0, 100))).toBe(true);
  });

  it('answers open and suffix ranges', async () => {
    const len = body().length;
    expect((await range('1000-')).body.equals(body().subarray(1000))).toBe(true);
    const suffix = await range('-77');
    expect(suffix.headers['content-range']).toBe(`bytes ${len - 77}-${len - 1}/${len}`);
    expect(suffix.body.equals(body().subarray(len - 77))).toBe(true);
  });

  it('answers 416 with the length to a range past the end', async () => {
    const res = await range(`${body().length}-`);
    expect(res.status).toBe(416);
    expect(res.headers['content-range']).toBe(`bytes */${body().length}`);
  });

  it('answers several ranges as multipart/byteranges', async () => {
    const res = await range('0-9,4000-4009');
    expect(res.status).toBe(206);
    const boundary = /^multipart\/byteranges; boundary=(\S+)$/.exec(res.headers['content-type'])![1];
    expect(Number(res.headers['content-length'])).toBe(res.body.length);
    const parts = res.body.toString('latin1').split(`--${boundary}`);
    expect(parts).toHaveLength(4); // before the first, two parts, after the closing one
    expect(parts[3]).toBe('--\r\n');
    for (const [part, start] of [
      [parts[1], 0],
      [parts[2], 4000],
    ] as const) {
      const [head, data] = part.split('\r\n\r\n');
      expect(head).toContain(`Content-Range: bytes ${start}-${start + 9}/${body().length}`);
      expect(Buffer.from(data.slice(0, 10), 'latin1')).toEqual(body().subarray(start, start + 10));
    }
  });

  it('honours If-Range with the current ETag or date, and sends all of it for another', async () => {
    const full = await get('Range: bytes=0-0\r\n');
    const { etag } = full.headers;
    const lastModified = full.headers['last-modified'];
    expect(etag).toMatch(/^"/); // strong: If-Range can use it
    expect((await range('0-9', `If-Range: ${etag}\r\n`)).status).toBe(206);
    expect((await range('0-9', `If-Range: ${lastModified}\r\n`)).status).toBe(206);
    const stale = await range('0-9', 'If-Range: "not-this-one"\r\n');
    expect(stale.status).toBe(200);
    expect(stale.body.equals(body())).toBe(true);
    expect((await range('0-9', 'If-Range: Mon, 01 Jan 2001 00:00:00 GMT\r\n')).status).toBe(200);
  });

  it('answers 304 to If-None-Match and If-Modified-Since, with no body', async () => {
    const { etag, 'last-modified': lastModified } = (await range('0-0')).headers;
    const byTag = await get(`If-None-Match: ${etag}\r\nRange: bytes=0-9\r\n`);
    expect(byTag.status).toBe(304);
    expect(byTag.body.length).toBe(0);
    expect(byTag.headers.etag).toBe(etag);
    expect((await get(`If-Modified-Since: ${lastModified}\r\n`)).status).toBe(304);
    expect((await get('If-None-Match: "other"\r\n')).status).toBe(200);
  });

  it('ignores a malformed Range or another unit', async () => {
    expect((await get('Range: bytes=x-y\r\n')).status).toBe(200);
    expect((await get('Range: lines=1-2\r\n')).status).toBe(200);
  });

  it('is what curl gets for a range', async () => {
    // Not execFileSync: the server runs in this process and must go on answering.
    const url = `http://127.0.0.1:${s.port}${path}`;
    const { stdout } = await promisify(execFile)('curl', ['-sS', '--max-time', '20', '-r', '100-199', url], {
      encoding: 'buffer',
    });
    expect(stdout.equals(body().subarray(100, 200))).toBe(true);
  });
});

describe('HEAD', () => {
  it.each(['/small.bin', '/blob.bin'])('%s: the headers of the whole file, Range ignored (GET only)', async (path) => {
    const size = statSync(join(s.root, path)).size;
    const res = await rawRequest(s.port, 'HEAD', path, 'Range: bytes=0-9\r\n');
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(size));
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(res.body.length).toBe(0);
  });
});
