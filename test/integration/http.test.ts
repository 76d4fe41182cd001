// HTTP details a real server gets right, checked over raw sockets: keep-alive
// and pipelining, Expect: 100-continue, HEAD, chunked vs HTTP/1.0 close,
// Set-Cookie, latin-1 headers both ways, Authorization, 304 from the app, and
// the max-body (413) and max-header-size (431) limits. All of it under both
// launch modes.
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAUNCHES, rawRequest, startTestServer, waitFor, type TestServer } from '../helpers.js';

const HTTP_FIXTURES = new URL('../fixtures/http/', import.meta.url).pathname;
const MAX_BODY = 100_000;

interface Parsed {
  status: number;
  headers: Record<string, string[]>;
  body: Buffer;
}

/** One client connection that reads responses one at a time, as they come. */
class Connection {
  private buffer: Buffer = Buffer.alloc(0);
  closed = false;
  private wake: () => void = () => {};
  private readonly socket: Socket;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('data', (d: Buffer) => this.arrived(Buffer.concat([this.buffer, d])));
    this.socket.on('error', () => {}); // a reset after a 413 is the server's right; what arrived is kept
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  send(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** The next response (a 1xx included); `head` for the answer to a HEAD, which has no body. */
  async response(head = false): Promise<Parsed> {
    const end = await this.until(() =>
      this.buffer.indexOf('\r\n\r\n') === -1 ? null : this.buffer.indexOf('\r\n\r\n') + 4,
    );
    const lines = this.buffer
      .subarray(0, end - 4)
      .toString('latin1')
      .split('\r\n');
    const headers: Record<string, string[]> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      (headers[line.slice(0, colon).toLowerCase()] ??= []).push(line.slice(colon + 1).trim());
    }
    const status = Number(lines[0].split(' ')[1]);
    this.buffer = this.buffer.subarray(end);
    const body = head || status < 200 || status === 204 || status === 304 ? Buffer.alloc(0) : await this.body(headers);
    return { status, headers, body };
  }

  /** Resolves once `text` has arrived (it stays unparsed). */
  async received(text: string): Promise<void> {
    await this.until(() => (this.buffer.includes(text) ? true : null));
  }

  /** Resolves when the server has closed the connection. */
  async end(): Promise<void> {
    await this.until(() => (this.closed ? true : null));
  }

  close(): void {
    this.socket.destroy();
  }

  private async body(headers: Record<string, string[]>): Promise<Buffer> {
    if (headers['transfer-encoding']?.[0] === 'chunked') {
      const at = await this.until(() =>
        this.buffer.indexOf('\r\n0\r\n\r\n') === -1 ? null : this.buffer.indexOf('\r\n0\r\n\r\n') + 7,
      );
      const raw = this.buffer.subarray(0, at);
      this.buffer = this.buffer.subarray(at);
      return dechunk(raw);
    }
    const length = headers['content-length'] ? Number(headers['content-length'][0]) : null;
    const at = await this.until(() =>
      length === null ? (this.closed ? this.buffer.length : null) : this.buffer.length >= length ? length : null,
    );
    const body = this.buffer.subarray(0, at);
    this.buffer = this.buffer.subarray(at);
    return body;
  }

  private arrived(buffer: Buffer): void {
    this.buffer = buffer;
    this.wake();
  }

  private async until<T>(probe: () => T | null): Promise<T> {
    for (;;) {
      const value = probe();
      if (value !== null) return value;
      if (this.closed)
        throw new Error(`connection closed; unparsed: ${JSON.stringify(this.buffer.toString('latin1'))}`);
      await new Promise<void>((r) => (this.wake = r));
    }
  }
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; ; ) {
    const eol = data.indexOf('\r\n', at);
    const size = parseInt(data.subarray(at, eol).toString(), 16);
    if (!size) return Buffer.concat(parts);
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`;
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const chunked = (parts: Buffer[]) =>
  Buffer.concat([
    ...parts.flatMap((p) => [Buffer.from(`${p.length.toString(16)}\r\n`), p, Buffer.from('\r\n')]),
    Buffer.from('0\r\n\r\n'),
  ]);

describe.each(LAUNCHES)('launch %s', (launch) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ launch, maxBody: MAX_BODY, maxHeaderSize: 4096 });
    cpSync(HTTP_FIXTURES, join(s.root, 'http'), { recursive: true });
    copyFileSync(join(s.root, 'wsgi_check.py'), join(s.root, 'http', 'wsgi_check.py'));
  });
  afterAll(() => s.stop());

  describe('connections', () => {
    it('keeps an HTTP/1.1 connection alive across requests', async () => {
      const c = new Connection(s.port);
      for (let i = 0; i < 3; i++) {
        c.send(get('/hello.py'));
        const res = await c.response();
        expect(res.status).toBe(200);
        expect(res.body.toString()).toBe('Hello, World!');
        expect(res.headers.connection?.[0]).not.toBe('close');
      }
      expect(c.closed).toBe(false);
      c.close();
    });

    it('answers pipelined requests, sent in one write, in order', async () => {
      const c = new Connection(s.port);
      c.send(get('/sleepy.py?s=0.3') + get('/env.py/second') + get('/hello.py'));
      expect((await c.response()).body.toString()).toBe('v1');
      expect(JSON.parse((await c.response()).body.toString()).PATH_INFO).toBe('/second');
      expect((await c.response()).body.toString()).toBe('Hello, World!');
      c.close();
    });

    it('sends a response without Content-Length chunked on HTTP/1.1, keeping the connection', async () => {
      const c = new Connection(s.port);
      c.send(get('/write_callable.py'));
      const res = await c.response();
      expect(res.headers['transfer-encoding']).toEqual(['chunked']);
      expect(res.body.toString()).toBe('written, then returned');
      c.send(get('/hello.py'));
      expect((await c.response()).status).toBe(200);
      c.close();
    });

    it('closes the connection to end a response without Content-Length on HTTP/1.0, even if asked to keep it', async () => {
      const c = new Connection(s.port);
      c.send('GET /write_callable.py HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
      const res = await c.response();
      expect(res.headers['transfer-encoding']).toBeUndefined();
      expect(res.headers['content-length']).toBeUndefined();
      expect(res.body.toString()).toBe('written, then returned');
      await c.end();
    });
  });

  describe('Expect: 100-continue', () => {
    it('sends 100 Continue when the page reads the body, then the answer', async () => {
      const body = Buffer.alloc(50_000, 'x');
      const c = new Connection(s.port);
      c.send(
        `POST /echo.py HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`,
      );
      expect((await c.response()).status).toBe(100);
      c.send(body);
      const res = await c.response();
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe(`${body.length} ${sha(body)}`);
      c.close();
    });

    it('answers without 100 when the page does not read the body, and closes the connection', async () => {
      const c = new Connection(s.port);
      c.send(`POST /hello.py HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n`);
      const res = await c.response();
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('Hello, World!');
      await c.end();
    });

    it('answers 413 at once, without 100, for a declared body over max-body', async () => {
      const c = new Connection(s.port);
      c.send(
        `POST /http/reached.py?expect HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${MAX_BODY + 1}\r\nExpect: 100-continue\r\n\r\n`,
      );
      const res = await c.response();
      expect(res.status).toBe(413);
      await c.end();
      expect(s.log.errors.some((l) => l.includes('REACHED expect'))).toBe(false);
    });
  });

  describe('max-body', () => {
    it('answers 413 for a Content-Length over max-body before the page runs', async () => {
      const res = await rawRequest(
        s.port,
        'POST',
        '/http/reached.py?declared',
        `Content-Length: ${MAX_BODY + 1}\r\n`,
        Buffer.alloc(MAX_BODY + 1),
      );
      expect(res.status).toBe(413);
      expect(res.headers.connection).toBe('close');
      expect(res.body.toString()).toContain('413');
      // A later request to the page is the barrier: had the refused one reached Python, its line would have come first.
      await (await s.get('/http/reached.py?after-declared', { method: 'POST', body: 'x' })).text();
      await waitFor(() => s.log.errors.some((l) => l.includes('REACHED after-declared')), "the later request's line");
      expect(s.log.errors.some((l) => l.includes('REACHED declared'))).toBe(false);
    });

    it('accepts a body of exactly max-body', async () => {
      const res = await s.get('/http/reached.py?exact', { method: 'POST', body: Buffer.alloc(MAX_BODY) });
      expect(await res.text()).toBe(String(MAX_BODY));
    });

    it('answers 413 when a chunked body grows past max-body while the page reads it', async () => {
      const c = new Connection(s.port);
      c.send(`POST /http/reached.py?chunked HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n`);
      c.send(chunked(Array.from({ length: 11 }, () => Buffer.alloc(10_000, 'y'))));
      const res = await c.response();
      expect(res.status).toBe(413);
      expect(res.headers.connection).toEqual(['close']);
      await c.end();
    });

    it('closes the connection when the body grows past max-body after the response started', async () => {
      const c = new Connection(s.port);
      c.send(`POST /http/started_then_reads.py HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n`);
      await c.received('started\n'); // the body is pushed to the page as it comes: send it once the response has started
      c.send(chunked(Array.from({ length: 11 }, () => Buffer.alloc(10_000, 'y'))));
      // The head and "started" arrive, then the connection closes with no last chunk: the client can tell.
      const cut = await c.response().then(
        () => null,
        (err: Error) => err.message,
      );
      expect(cut).toMatch(/^connection closed; unparsed: "8\\r\\nstarted\\n\\r\\n"$/);
    });
  });

  describe('a body the page does not read', () => {
    // The default max-body: the body is pushed to the worker as it arrives (this file's server has a small one).
    let d: TestServer;
    beforeAll(async () => (d = await startTestServer({ launch })));
    afterAll(() => d.stop());

    for (const [label, first] of [
      ['a little of it', 1000],
      ['more than the push window', 300_000],
    ] as const) {
      it(`is drained after the answer, so the connection serves the next request (${label} sent before)`, async () => {
        const endedLines = () => d.log.lines.filter((l) => l.includes('"POST /hello.py HTTP/1.1" 200 ')).length;
        const ended = endedLines();
        const c = new Connection(d.port);
        c.send(`POST /hello.py HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${first + 700_000}\r\n\r\n`);
        c.send(Buffer.alloc(first, 97)); // the rest comes after the answer
        const res = await c.response();
        expect(res.body.toString()).toBe('Hello, World!');
        await waitFor(() => endedLines() > ended, 'the request to end on the server (its access-log line)');
        c.send(Buffer.alloc(700_000, 97));
        c.send(get('/hello.py'));
        expect((await c.response()).status).toBe(200);
        c.close();
      });
    }
  });

  describe('holding a complete body for END', () => {
    it('sends a body that is complete at once without waiting for a slow close()', async () => {
      const c = new Connection(s.port);
      const started = Date.now();
      c.send(get('/http/slow_close.py'));
      const res = await c.response();
      expect(res.body.toString()).toBe('done\n');
      expect(Date.now() - started).toBeLessThan(1500); // close() takes 2 s
      c.close();
    });
  });

  describe('headers', () => {
    it('answers 431, not a reset, when the request head is over max-header-size', async () => {
      const res = await rawRequest(s.port, 'GET', '/hello.py', `X-Big: ${'a'.repeat(8000)}\r\n`);
      expect(res.status).toBe(431);
    });

    it('answers HEAD with the headers GET would send, and no body', async () => {
      for (const path of ['/hello.py', '/write_callable.py']) {
        const c = new Connection(s.port);
        c.send(get(path));
        const full = await c.response();
        c.send(`HEAD ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
        const head = await c.response(true);
        expect(head.status).toBe(200);
        expect(head.headers['content-type']).toEqual(full.headers['content-type']);
        expect(head.headers['content-length']).toEqual(full.headers['content-length']);
        c.send(get('/hello.py')); // no stray body bytes: the next response parses cleanly
        expect((await c.response()).body.toString()).toBe('Hello, World!');
        c.close();
      }
    });

    it('keeps several Set-Cookie headers apart', async () => {
      const res = await rawRequest(s.port, 'GET', '/cookies.py');
      const lines = res.raw
        .toString('latin1')
        .split('\r\n')
        .filter((l) => /^set-cookie:/i.test(l));
      expect(lines).toEqual(['Set-Cookie: a=1; Path=/', 'Set-Cookie: b=2; Path=/']);
    });

    it('passes latin-1 header bytes both ways, as PEP 3333 says', async () => {
      const c = new Connection(s.port);
      c.send(get('/http/latin1.py', 'X-Name: \u00e9t\u00e9\r\n')); // sent as latin-1: one byte 0xE9 each
      const res = await c.response();
      expect(JSON.parse(res.body.toString())).toEqual({ name: '\u00e9t\u00e9', codepoints: [0xe9, 0x74, 0xe9] });
      // The parser decoded the head as latin-1: byte 0xE9 reads back as U+00E9.
      expect(res.headers['x-greeting']).toEqual(['caf\u00e9']);
      c.close();
    });

    it('passes the Authorization header to the app', async () => {
      const auth = `Basic ${Buffer.from('ada:secret').toString('base64')}`;
      const env = await (await s.get('/env.py', { headers: { Authorization: auth } })).json();
      expect(env.HTTP_AUTHORIZATION).toBe(auth);
    });

    it("passes the app's own 304 through, without a body", async () => {
      const first = await rawRequest(s.port, 'GET', '/http/etag.py');
      expect(first.status).toBe(200);
      expect(first.headers.etag).toBe('"v1"');
      const c = new Connection(s.port);
      c.send(get('/http/etag.py', 'If-None-Match: "v1"\r\n'));
      const res = await c.response();
      expect(res.status).toBe(304);
      expect(res.headers.etag).toEqual(['"v1"']);
      c.send(get('/hello.py')); // nothing after the 304's head: the next response parses cleanly
      expect((await c.response()).body.toString()).toBe('Hello, World!');
      c.close();
    });
  });
});
