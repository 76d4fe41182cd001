// Other files are static: koa-static with mime-types, ETag/Last-Modified, HEAD, 304.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, startTestServer, type TestServer } from '../helpers.js';

let s: TestServer;
beforeAll(async () => (s = await startTestServer()));
afterAll(() => s.stop());

describe('static files', () => {
  it('serves a file with its mime type, length, ETag and Last-Modified', async () => {
    const res = await s.get('/style.css');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(res.headers.get('etag')).toMatch(/^W\/"/);
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
    expect((await rawRequest(s.port, 'GET', '/style.css', `If-None-Match: ${etag}\r\nCache-Control: no-cache\r\n`)).status).toBe(200);
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
