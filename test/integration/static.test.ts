// Other files are static: mime-types, ETag/Last-Modified, HEAD, 304; small ones from memory.
import { mkdirSync, renameSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_FILE_BYTES, RACY_MS } from '../../lib/http/static/file-cache.js';
import {
  rawRequest,
  removeDir,
  serveTempRoot,
  startTestServer,
  tempDir,
  waitFor,
  type TestServer,
} from '../helpers.js';

let s: TestServer;
beforeAll(async () => (s = await startTestServer()));
afterAll(() => s.stop());

describe('static files', () => {
  it('serves a file with its mime type, length, ETag and Last-Modified', async () => {
    const res = await s.get('/style.css');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/); // strong: If-Range may use it
    expect(res.headers.get('last-modified')).toBeTruthy();
    expect(await res.text()).toBe('body { color: #333; }\n');
  });

  it('serves html as text/html', async () => {
    expect((await s.get('/site/index.html')).headers.get('content-type')).toBe('text/html; charset=utf-8');
  });

  it('answers 304 to If-None-Match with the current ETag', async () => {
    const etag = (await s.get('/style.css')).headers.get('etag')!;
    // A raw request: fetch() adds "Cache-Control: no-cache" to conditional requests, which rightly defeats 304.
    const res = await rawRequest(s.port, 'GET', '/style.css', `If-None-Match: ${etag}\r\n`);
    expect(res.status).toBe(304);
    expect(res.body.length).toBe(0);
  });

  it('answers 304 to If-Modified-Since', async () => {
    const lastModified = (await s.get('/style.css')).headers.get('last-modified')!;
    expect((await rawRequest(s.port, 'GET', '/style.css', `If-Modified-Since: ${lastModified}\r\n`)).status).toBe(304);
  });

  it('answers 200 when the client asks for no-cache', async () => {
    const etag = (await s.get('/style.css')).headers.get('etag')!;
    expect(
      (await rawRequest(s.port, 'GET', '/style.css', `If-None-Match: ${etag}\r\nCache-Control: no-cache\r\n`)).status,
    ).toBe(200);
  });

  it('answers HEAD with the headers and no body', async () => {
    const res = await rawRequest(s.port, 'HEAD', '/style.css');
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe('22');
    expect(res.body.length).toBe(0);
  });

  it('answers 405 to POST on a static file', async () => {
    const res = await s.get('/style.css', { method: 'POST', body: 'x' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });

  it('never sends a .py file as static', async () => {
    for (const path of ['/hello.py', '/helper_module.py']) {
      const res = await s.get(path);
      expect(res.headers.get('content-type') ?? '').not.toContain('python');
      expect(await res.text()).not.toContain('def application');
    }
  });
});

// Small files are sent from memory (lib/file-cache.ts), larger ones streamed; both from the real path resolve approved. These files are
// created, then left alone for RACY_MS so that the first request keeps them:
// every check below then runs against a kept entry.
describe('static files from memory', () => {
  let m: TestServer;
  const outside = tempDir('pypages-outside-');
  const big = Buffer.alloc(DEFAULT_MAX_FILE_BYTES + 1, 'b');
  beforeAll(async () => {
    m = await serveTempRoot((root) => {
      writeFileSync(join(root, 'a.txt'), 'version-1\n');
      writeFileSync(join(root, 'one.txt'), 'ONE\n');
      writeFileSync(join(root, 'two.txt'), 'TWO\n');
      writeFileSync(join(root, 'gone.txt'), 'soon gone\n');
      writeFileSync(join(root, 'plain.txt'), 'plain\n');
      writeFileSync(join(root, 'big.bin'), big);
      writeFileSync(join(root, 'page.css'), 'p {}\n');
      writeFileSync(join(outside, 'secret.txt'), 'SECRET\n');
      writeFileSync(join(outside, 'same.txt'), 'ONE\n');
      // A NAME.gz next to NAME is never sent in its place (it may be a link out of the root).
      symlinkSync(join(outside, 'secret.txt'), join(root, 'plain.txt.gz'));
      symlinkSync('one.txt', join(root, 'link.txt'));
      symlinkSync('page.css', join(root, 'style-link'));
      mkdirSync(join(root, 'site'));
      writeFileSync(join(root, 'site', 'index.html'), '<p>home</p>\n');
    });
    await new Promise((r) => setTimeout(r, RACY_MS + 200)); // a sleep on purpose: the files must grow older than RACY_MS
  });
  afterAll(async () => {
    await m.stop();
    removeDir(outside);
  });

  const headersOf = (res: { headers: Record<string, string> }) => {
    const { date: _date, connection: _connection, ...rest } = res.headers;
    return rest;
  };
  const validators = (file: string) => {
    const st = statSync(join(m.root, file));
    return {
      etag: `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`,
      'last-modified': st.mtime.toUTCString(),
    };
  };

  it('sends exactly these headers: GET, HEAD, 304', async () => {
    for (let i = 0; i < 2; i++) {
      // The first request reads and keeps the file, the second is served from memory.
      const res = await rawRequest(m.port, 'GET', '/a.txt');
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('version-1\n');
      expect(headersOf(res)).toEqual({
        ...validators('a.txt'),
        'content-length': '10',
        'cache-control': 'max-age=0',
        'content-type': 'text/plain; charset=utf-8',
        'accept-ranges': 'bytes',
      });
    }
    const head = await rawRequest(m.port, 'HEAD', '/a.txt');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(headersOf(head)).toEqual({
      ...validators('a.txt'),
      'content-length': '10',
      'cache-control': 'max-age=0',
      'content-type': 'text/plain; charset=utf-8',
      'accept-ranges': 'bytes',
    });
    const { etag } = validators('a.txt');
    for (const extra of [
      `If-None-Match: ${etag}\r\n`,
      `If-None-Match: "x", ${etag}\r\n`,
      `If-Modified-Since: ${validators('a.txt')['last-modified']}\r\n`,
    ]) {
      const res = await rawRequest(m.port, 'GET', '/a.txt', extra);
      expect(res.status).toBe(304);
      expect(res.body.length).toBe(0);
      expect(headersOf(res)).toEqual({
        ...validators('a.txt'),
        'cache-control': 'max-age=0',
        'accept-ranges': 'bytes',
      });
    }
    expect((await rawRequest(m.port, 'GET', '/a.txt', 'If-None-Match: "other"\r\n')).status).toBe(200);
    expect((await rawRequest(m.port, 'HEAD', '/a.txt', `If-None-Match: ${etag}\r\n`)).status).toBe(304);
  });

  it('streams a file over the memory limit, with the same headers', async () => {
    const res = await rawRequest(m.port, 'GET', '/big.bin');
    expect(res.status).toBe(200);
    expect(res.body.equals(big)).toBe(true);
    expect(headersOf(res)).toEqual({
      ...validators('big.bin'),
      'content-length': String(big.length),
      'cache-control': 'max-age=0',
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes',
    });
    const head = await rawRequest(m.port, 'HEAD', '/big.bin');
    expect(head.body.length).toBe(0);
    expect(head.headers['content-length']).toBe(String(big.length));
    expect(
      (await rawRequest(m.port, 'GET', '/big.bin', `If-None-Match: ${validators('big.bin').etag}\r\n`)).status,
    ).toBe(304);
  });

  it('sees an edit on the very next request, even of the same size with the old mtime put back', async () => {
    const file = join(m.root, 'a.txt');
    expect(await (await m.get('/a.txt')).text()).toBe('version-1\n');
    const before = statSync(file);
    writeFileSync(file, 'version-2\n');
    utimesSync(file, before.atime, before.mtime);
    expect(await (await m.get('/a.txt')).text()).toBe('version-2\n');
    writeFileSync(file, 'v3\n');
    const res = await m.get('/a.txt');
    expect(await res.text()).toBe('v3\n');
    expect(res.headers.get('etag')).toBe(validators('a.txt').etag);
  });

  it('sees an atomic save (rename over) on the very next request', async () => {
    expect(await (await m.get('/one.txt')).text()).toBe('ONE\n');
    writeFileSync(join(m.root, 'one.tmp'), 'NEW\n');
    renameSync(join(m.root, 'one.tmp'), join(m.root, 'one.txt'));
    expect(await (await m.get('/one.txt')).text()).toBe('NEW\n');
    writeFileSync(join(m.root, 'one.tmp'), 'ONE\n');
    renameSync(join(m.root, 'one.tmp'), join(m.root, 'one.txt'));
  });

  it('answers 404 for a deleted file at once', async () => {
    expect((await m.get('/gone.txt')).status).toBe(200);
    unlinkSync(join(m.root, 'gone.txt'));
    expect((await m.get('/gone.txt')).status).toBe(404);
  });

  it('follows a swapped symlink to its new target within a second (the path memory), and never out of the root', async () => {
    const link = join(m.root, 'link.txt');
    const swap = (target: string) => {
      symlinkSync(target, `${link}.new`);
      renameSync(`${link}.new`, link);
    };
    // Every answer until the new one shows is the old target's: never a file outside the root.
    const settles = async (before: string, after: (r: { status: number; text: string }) => boolean) => {
      await waitFor(
        async () => {
          const res = await m.get('/link.txt');
          const r = { status: res.status, text: await res.text() };
          expect(r.text).not.toContain('SECRET');
          if (after(r)) return true;
          expect(r.text).toBe(before);
          return false;
        },
        'the swapped link to be followed',
        3000,
      );
    };
    expect(await (await m.get('/link.txt')).text()).toBe('ONE\n');
    swap('two.txt'); // same size as one.txt
    await settles('ONE\n', (r) => r.text === 'TWO\n');
    swap(join(outside, 'same.txt'));
    await settles('TWO\n', (r) => r.status === 404);
    swap(join(outside, 'secret.txt'));
    const res = await m.get('/link.txt');
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('SECRET');
    swap('one.txt');
    await settles('', (r) => r.text === 'ONE\n');
  });

  it('takes Content-Type from the URL, as before: a link without extension is octet-stream', async () => {
    const res = await m.get('/style-link');
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(await res.text()).toBe('p {}\n');
    expect((await m.get('/page.css')).headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('never sends a precompressed sibling (NAME.gz, NAME.br) in place of the file', async () => {
    for (const enc of ['gzip', 'br', 'gzip, deflate, br']) {
      const res = await rawRequest(m.port, 'GET', '/plain.txt', `Accept-Encoding: ${enc}\r\n`);
      expect(res.status).toBe(200);
      expect(res.headers['content-encoding']).toBeUndefined();
      expect(res.body.toString()).toBe('plain\n');
    }
    expect((await m.get('/plain.txt.gz')).status).toBe(404); // resolve: outside the root
  });

  it('serves a folder index from memory', async () => {
    const res = await m.get('/site/');
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await res.text()).toBe('<p>home</p>\n');
  });

  it('still refuses other methods (405) and keeps serving after many requests', async () => {
    expect((await m.get('/page.css', { method: 'DELETE' })).status).toBe(405);
    const bodies = await Promise.all(Array.from({ length: 50 }, () => m.get('/page.css').then((r) => r.text())));
    expect(new Set(bodies)).toEqual(new Set(['p {}\n']));
  });
});
