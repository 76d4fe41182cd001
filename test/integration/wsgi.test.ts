// PEP 3333 behaviour seen over HTTP: bodies both ways, write(), file_wrapper,
// headers, close(), Content-Length accounting, output capture. All of it under
// both launch modes.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobBytes, LAUNCHES, rawRequest, startTestServer, waitFor, type TestServer } from '../helpers.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe.each(LAUNCHES)('launch %s', (launch) => {
  let s: TestServer;
  beforeAll(async () => (s = await startTestServer({ launch })));
  afterAll(() => s.stop());

  describe('wsgi.input', () => {
    const body = Buffer.from(Array.from({ length: 5000 }, (_, i) => `line ${i}\n`).join(''));
    for (const mode of ['read', 'lines', 'readlines', 'iter']) {
      it(`streams the request body (${mode})`, async () => {
        const res = await s.get(`/echo.py?mode=${mode}`, { method: 'POST', body });
        expect(await res.text()).toBe(`${body.length} ${sha(body)}`);
      });
    }

    it('reads a chunked request body to its end', async () => {
      const chunks = ['hello ', 'chunked ', 'world'];
      const body = `${chunks.map((c) => `${c.length.toString(16)}\r\n${c}\r\n`).join('')}0\r\n\r\n`;
      const res = await rawRequest(s.port, 'POST', '/echo.py', 'Transfer-Encoding: chunked\r\n', body);
      expect(res.body.toString()).toBe(`19 ${sha('hello chunked world')}`);
    });

    it('gives an empty input for a GET', async () => {
      expect(await (await s.get('/echo.py')).text()).toBe(`0 ${sha('')}`);
    });
  });

  describe('responses', () => {
    it('supports the write() callable, before the returned iterable', async () => {
      expect(await (await s.get('/write_callable.py')).text()).toBe('written, then returned');
    });

    it('keeps several Set-Cookie headers apart', async () => {
      const res = await s.get('/cookies.py');
      expect(res.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    });

    it('sends a wsgi.file_wrapper file from Node, whole and from an offset', async () => {
      const blob = blobBytes();
      expect(Buffer.from(await (await s.get('/file_wrapper.py')).arrayBuffer()).equals(blob)).toBe(true);
      expect(Buffer.from(await (await s.get('/file_wrapper.py?1000')).arrayBuffer()).equals(blob.subarray(1000))).toBe(
        true,
      );
    });

    it('streams a response without Content-Length as chunked on HTTP/1.1', async () => {
      const res = await rawRequest(s.port, 'GET', '/write_callable.py');
      expect(res.headers['transfer-encoding']).toBe('chunked');
      expect(res.body.toString()).toBe('written, then returned');
    });

    it('answers HEAD with headers and no body', async () => {
      const res = await rawRequest(s.port, 'HEAD', '/hello.py');
      expect(res.status).toBe(200);
      expect(res.headers['content-length']).toBe('13');
      expect(res.body.length).toBe(0);
    });

    it('closes the connection when the body is shorter than Content-Length, and logs it', async () => {
      const res = await rawRequest(s.port, 'GET', '/short_body.py');
      expect(res.headers['content-length']).toBe('10');
      expect(res.body.toString()).toBe('12345');
      await waitFor(
        () => s.log.errors.some((l) => l.includes('shorter than its Content-Length')),
        'the short-body log line',
      );
    });

    it('closes the connection when the app fails after the headers, and logs the traceback', async () => {
      const res = await rawRequest(s.port, 'GET', '/late_error.py');
      expect(res.status).toBe(200);
      expect(res.raw.toString()).not.toMatch(/0\r\n\r\n$/); // no clean chunked end: the client can tell
      await waitFor(() => s.log.errors.some((l) => l.includes('boom while streaming')), 'the traceback');
    });

    it('rejects hop-by-hop headers from the app with a 500', async () => {
      const res = await s.get('/hop_by_hop.py');
      expect(res.status).toBe(500);
      expect(await res.text()).not.toContain('must not be sent');
    });

    it('rejects CR/LF in header values with a 500 (no header injection)', async () => {
      const res = await rawRequest(s.port, 'GET', '/crlf_header.py');
      expect(res.status).toBe(500);
      expect(res.headers['set-cookie']).toBeUndefined();
    });

    it('always calls close() on the iterable, also when iteration fails', async () => {
      await (await s.get('/close_tracker.py')).text();
      await rawRequest(s.port, 'GET', '/close_tracker.py?fail=1');
      expect(await (await s.get('/close_tracker.py?report=1')).text()).toBe('2');
    });
  });

  describe('output capture', () => {
    it('sends print(), stderr and wsgi.errors to the error log tagged with the script', async () => {
      await (await s.get('/printer.py')).text();
      for (const text of ['printed by the page', 'written to stderr', 'written to wsgi.errors']) {
        const line = await waitFor(() => s.log.errors.find((l) => l.includes(text)), text);
        expect(line).toContain('printer.py');
      }
    });
  });
});
