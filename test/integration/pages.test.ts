// URL → page over HTTP: scripts, PATH_INFO, indexes, redirects, and every
// case where Python source must never be sent. All of it under both launch modes.
import { existsSync, readFileSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupLoad, LAUNCHES, rawRequest, startTestServer, waitFor, type TestServer } from '../helpers.js';

describe.each(LAUNCHES)('launch %s', (launch) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ launch });
    writeFileSync(join(s.root, 'HELLO.PY'), readFileSync(join(s.root, 'hello.py')));
    symlinkSync('/etc/passwd', join(s.root, 'passwd.txt'));
    symlinkSync(join(s.root, 'hello.py'), join(s.root, 'link.py'));
    mkdirSync(join(s.root, '__pycache__'));
    writeFileSync(join(s.root, '__pycache__', 'hello.cpython-311.pyc'), 'compiled');
    writeFileSync(join(s.root, 'hello.pyc'), 'compiled');
    writeFileSync(join(s.root, 'hello.pyo'), 'compiled');
  });
  afterAll(() => s.stop());

  const env = async (path: string) => (await (await s.get(path)).json()) as Record<string, unknown>;

  describe('a .py file with application is a page', () => {
    it('serves hello.py', async () => {
      const res = await s.get('/hello.py');
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('Hello, World!');
    });

    it('splits SCRIPT_NAME, PATH_INFO and QUERY_STRING', async () => {
      const e = await env('/env.py/a/b?x=1&y=%20');
      expect(e.SCRIPT_NAME).toBe('/env.py');
      expect(e.PATH_INFO).toBe('/a/b');
      expect(e.QUERY_STRING).toBe('x=1&y=%20');
      expect(e.REQUEST_URI).toBe('/env.py/a/b?x=1&y=%20');
    });

    it('percent-decodes PATH_INFO into latin-1 code points (PEP 3333)', async () => {
      const e = await env('/env.py/caf%C3%A9/%20x');
      expect(e.PATH_INFO).toBe('/caf\u00c3\u00a9/ x');
    });

    it('gives PATH_INFO "/" for a trailing slash after the script', async () => {
      expect((await env('/env.py/')).PATH_INFO).toBe('/');
    });

    it('builds the full CGI and wsgi environ', async () => {
      const e = await env('/env.py');
      for (const key of [
        'REQUEST_METHOD',
        'SERVER_NAME',
        'SERVER_PORT',
        'SERVER_PROTOCOL',
        'REMOTE_ADDR',
        'REMOTE_PORT',
        'SCRIPT_FILENAME',
        'DOCUMENT_ROOT',
        'HTTP_HOST',
      ]) {
        expect(e, key).toHaveProperty(key);
      }
      expect(e.SCRIPT_FILENAME).toBe(join(s.root, 'env.py'));
      expect(e.DOCUMENT_ROOT).toBe(s.root);
      expect(e.REMOTE_ADDR).toBe('127.0.0.1');
      expect(e.SERVER_PORT).toBe(String(s.port));
      expect(e.SERVER_NAME).toBe('127.0.0.1');
      expect(e['wsgi.url_scheme']).toBe('http');
      expect(e['wsgi.version']).toEqual([1, 0]);
      expect(e['wsgi.run_once']).toBe(false);
      expect(e.has).toEqual(
        expect.arrayContaining([
          'wsgi.input',
          'wsgi.errors',
          'wsgi.file_wrapper',
          'wsgi.multithread',
          'wsgi.multiprocess',
        ]),
      );
    });

    it('passes headers as HTTP_*, never duplicates CONTENT_TYPE, drops names with "_"', async () => {
      const res = await rawRequest(
        s.port,
        'POST',
        '/env.py',
        'Content-Type: text/plain\r\nContent-Length: 0\r\nX-Forwarded-For: 10.0.0.1\r\nX_Forwarded_For: 6.6.6.6\r\nX-Multi: a\r\nX-Multi: b\r\n',
      );
      const e = JSON.parse(res.body.toString());
      expect(e.CONTENT_TYPE).toBe('text/plain');
      expect(e.CONTENT_LENGTH).toBe('0');
      expect(e).not.toHaveProperty('HTTP_CONTENT_TYPE');
      expect(e).not.toHaveProperty('HTTP_CONTENT_LENGTH');
      expect(e.HTTP_X_FORWARDED_FOR).toBe('10.0.0.1');
      expect(e.HTTP_X_MULTI).toBe('a, b');
    });

    it('runs a page that imports a sibling module', async () => {
      expect(await (await s.get('/uses_sibling.py')).text()).toBe('hello from a sibling module');
    });
  });

  describe('folders', () => {
    it('serves index.py for a folder URL', async () => {
      const res = await s.get('/sub/');
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('sub index at /sub/index.py');
    });

    it('serves index.html for a folder URL', async () => {
      expect(await (await s.get('/site/')).text()).toContain('site index');
    });

    it('redirects a folder URL without the slash, keeping the query', async () => {
      const res = await s.get('/sub?a=1');
      expect(res.status).toBe(301);
      expect(res.headers.get('location')).toBe('/sub/?a=1');
    });

    it('never redirects off-site for //host paths', async () => {
      const res = await rawRequest(s.port, 'GET', '//sub');
      expect(res.status).toBe(301);
      expect(res.headers.location).toBe('/sub/');
    });

    it('answers 404 for a folder without an index (no listing)', async () => {
      expect((await s.get('/deep/')).status).toBe(404);
    });

    it('serves a package folder that has an index page', async () => {
      expect(await (await s.get('/pkgweb/')).text()).toContain('package with an index');
    });
  });

  describe('never the source, never a page: 404', () => {
    const cases = [
      '/helper_module.py',
      '/not_callable.py',
      '/hello.pyc',
      '/hello.pyo',
      '/__pycache__/hello.cpython-311.pyc',
      '/__pycache__/',
      '/pkg/__init__.py',
      '/pkg/mod.py',
      '/pkg/',
      '/pkgweb/__init__.py',
      '/.secret',
      '/HELLO.PY',
      '/hello.py.',
      '/hello.py%20',
      '/%2e%2e/etc/passwd',
      '/sub/%2e%2e/hello.py',
      '/passwd.txt',
      '/hello%2epy%2f',
      '/sub%2findex.py',
      '/missing.py',
      '/style.css/x',
    ];
    for (const path of cases) {
      it(`404 for ${path}`, async () => {
        const res = await rawRequest(s.port, 'GET', path);
        expect(res.status).toBe(404);
        expect(res.body.toString()).not.toContain('def application');
        expect(res.body.toString()).not.toContain('import');
      });
    }

    it('does not execute a helper module requested by URL', async () => {
      expect((await s.get('/helper_module.py')).status).toBe(404);
      expect(existsSync(join(s.root, 'EXECUTED'))).toBe(false);
    });

    it('runs a symlinked script that stays inside the root', async () => {
      expect(await (await s.get('/link.py')).text()).toBe('Hello, World!');
    });

    it('answers 400 for malformed percent-encoding', async () => {
      expect((await rawRequest(s.port, 'GET', '/hello%zz.py')).status).toBe(400);
    });

    it('shows no detail in error pages but the request id, which is in the log', async () => {
      const res = await rawRequest(s.port, 'GET', '/nope.py');
      const id = /Request id: (\S+)/.exec(res.body.toString())?.[1];
      expect(id).toBeTruthy();
      expect(res.body.toString()).not.toContain(s.root);
    });
  });

  describe('access log', () => {
    it('writes Apache combined format', async () => {
      await (
        await s.get('/hello.py?q=1', { headers: { Referer: 'http://example.test/', 'User-Agent': 'vitest-agent' } })
      ).text();
      const line = await waitFor(() => s.log.lines.find((l) => l.includes('/hello.py?q=1')), 'the access log line');
      expect(line).toMatch(
        /^127\.0\.0\.1 - - \[\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET \/hello\.py\?q=1 HTTP\/1\.1" 200 13 "http:\/\/example\.test\/" "vitest-agent"$/,
      );
    });

    it('logs the length of an error page', async () => {
      for (const [path, status] of [
        ['/raises.py?logged', 500],
        ['/not_callable.py?logged', 404],
      ] as const) {
        const res = await rawRequest(s.port, 'GET', path);
        expect(res.status).toBe(status);
        const line = await waitFor(() => s.log.lines.find((l) => l.includes(path)), 'the access log line');
        expect(line).toContain(`" ${status} ${res.body.length} `);
      }
    });

    it('logs 499 for a client that leaves in the middle of its body', async () => {
      const socket = connect(s.port, '127.0.0.1');
      socket.on('error', () => {});
      socket.write('POST /echo.py?left HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 900\r\n\r\nabc');
      await waitFor(() => groupLoad(s, 'echo.py').running === 1, 'echo.py to read the body');
      socket.destroy();
      await waitFor(
        () => s.log.lines.some((l) => l.includes('"POST /echo.py?left HTTP/1.1" 499 ')),
        'a 499 access-log line',
      );
    });
  });
});
