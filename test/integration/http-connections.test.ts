// What one connection can make the server do: after a malformed head it is
// read no more; a head's header fields are counted, never silently cut; a
// request carrying Upgrade closes its connection, so requests pipelined
// after it are known to be unanswered.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, waitFor, type TestServer } from '../helpers.js';
import { rawExchange } from '../raw-client.js';

/**
 * Writes 64 KiB chunks until the server stops taking them (no 'drain' for
 * stallMs) or `cap` bytes went; resolves with the bytes sent.
 */
async function pushUntilStalled(socket: Socket, cap: number, stallMs: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, 'z');
  let sent = 0;
  while (sent < cap && !socket.destroyed) {
    sent += chunk.length;
    if (socket.write(chunk)) continue;
    const drained = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), stallMs);
      socket.once('drain', () => resolve(clearTimeout(timer) === undefined));
    });
    if (!drained) break;
  }
  return sent;
}

describe('a connection whose request parser failed', () => {
  let s: TestServer;
  beforeAll(async () => (s = await startTestServer({ clientTimeout: 2 })));
  afterAll(() => s.stop());

  it('is read no more while an earlier answer waits, and is let go after client-timeout', async () => {
    const socket = connect(s.port, '127.0.0.1');
    socket.on('error', () => {});
    const closed = new Promise((r) => socket.once('close', r));
    socket.pause(); // never reads the 200 MB answer
    socket.write(
      'GET /download.py?size=200000000 HTTP/1.1\r\nHost: x\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n',
    );
    // Read on, each chunk would be held until the earlier answer ends: the kernel's buffers take a few MiB, no more.
    const sent = await pushUntilStalled(socket, 128 * 1024 * 1024, 1500);
    expect(sent).toBeLessThan(48 * 1024 * 1024);
    await Promise.race([closed, new Promise((_, no) => setTimeout(() => no(new Error('not let go')), 20_000))]);
    await waitFor(() => s.groups.inflight === 0, 'the download to be freed', 10_000);
    expect((await s.get('/hello.py')).status).toBe(200);
  });

  it('answers the earlier request, then refuses the malformed one once, however much follows', async () => {
    const garbage = 'z'.repeat(256 * 1024);
    const reply = await rawExchange(
      s.port,
      `GET /sleepy.py?s=0.5 HTTP/1.1\r\nHost: x\r\n\r\nGET /x HTTP/1.1\r\nBad Header\r\n\r\n${garbage}`,
      { then: 'open', waitMs: 10_000 },
    );
    const text = reply.bytes.toString('latin1');
    expect(text.match(/^HTTP\/1\.1 \d{3}/gm)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 400']);
    expect(reply.closed).toBe(true);
  });
});

describe('a broken body pipelined behind a long answer', () => {
  let s: TestServer;
  beforeAll(async () => (s = await startTestServer()));
  afterAll(() => s.stop());

  it('lets the whole earlier answer reach a client that reads late, then refuses', async () => {
    const size = 3_000_000;
    const reply = await rawExchange(
      s.port,
      `GET /download.py?size=${size} HTTP/1.1\r\nHost: x\r\n\r\n` +
        'POST /echo.py HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      { then: 'open', pauseReadingMs: 1500, waitMs: 20_000 },
    );
    const text = reply.bytes.toString('latin1');
    const body = text.indexOf('\r\n\r\n') + 4;
    expect(text.slice(body, body + size)).toBe('x'.repeat(size));
    expect(text.slice(body + size)).toMatch(/^HTTP\/1\.1 400 /);
    expect(reply.closed).toBe(true);
  });
});

describe('header fields (max-header-fields)', () => {
  let s: TestServer;
  beforeAll(async () => (s = await startTestServer()));
  afterAll(() => s.stop());

  /** `n` short header fields. */
  const fillers = (n: number) => Array.from({ length: n }, (_, i) => `a${i}: b\r\n`).join('');

  it('takes 100 fields, Host included', async () => {
    const reply = await rawExchange(s.port, `GET /hello.py HTTP/1.1\r\nHost: x\r\n${fillers(99)}\r\n`);
    expect(reply.status).toBe(200);
  });

  it.each([
    ['a page', `GET /hello.py HTTP/1.1\r\nHost: x\r\n${fillers(100)}\r\n`],
    ['a static file', `GET /style.css HTTP/1.1\r\nHost: x\r\n${fillers(100)}\r\n`],
    ['the health page', `GET /-/health HTTP/1.1\r\nHost: x\r\n${fillers(100)}\r\n`],
    ['a second Host past 2000 fields', `GET /env.py HTTP/1.1\r\nHost: good\r\n${fillers(2000)}Host: evil\r\n\r\n`],
    [
      'a Content-Length past 2000 fields',
      `POST /echo.py HTTP/1.1\r\nHost: x\r\n${fillers(2000)}Content-Length: 5\r\n\r\nhello`,
    ],
    [
      'chunked HTTP/1.0 past 2000 fields',
      `POST /echo.py HTTP/1.0\r\nHost: x\r\n${fillers(2000)}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
    ],
    [
      'a body awaiting 100 Continue',
      `POST /echo.py HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n${fillers(100)}\r\n`,
    ],
  ])('101 or more fields, to %s: 431 before any handler, and the connection closed', async (_, request) => {
    const before = s.groups.status().length;
    const reply = await rawExchange(s.port, request, { then: 'open' });
    expect(reply.status).toBe(431);
    expect(reply.closed).toBe(true);
    expect(reply.bytes.toString('latin1')).toMatch(/\r\nConnection: close\r\n[\s\S]*Request id: /);
    expect(s.groups.status().length).toBe(before); // no page was started for it
  });
});

describe('a request carrying Upgrade (which pypages does not serve)', () => {
  let s: TestServer;
  beforeAll(async () => (s = await startTestServer({ keepAliveTimeout: 30 })));
  afterAll(() => s.stop());

  it.each(['websocket', 'h2c'])(
    'Upgrade: %s is answered, then the connection closes: the request pipelined after it is not lost unseen',
    async (protocol) => {
      const lines = () => s.log.lines.filter((l) => l.includes(`/hello.py?${protocol}`)).length;
      const reply = await rawExchange(
        s.port,
        `GET /hello.py?${protocol} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: ${protocol}\r\n\r\n` +
          `GET /hello.py?${protocol}-2 HTTP/1.1\r\nHost: x\r\n\r\n`,
        { then: 'open', waitMs: 20_000 },
      );
      const text = reply.bytes.toString('latin1');
      expect(text.match(/^HTTP\/1\.1 \d{3}/gm)).toEqual(['HTTP/1.1 200']);
      expect(text).toMatch(/\r\nConnection: close\r\n/i);
      expect(reply.closed).toBe(true);
      expect(reply.ms).toBeLessThan(15_000); // not keep-alive-timeout's 30 s
      await waitFor(() => lines() === 1, 'its access-log line');
    },
  );

  it("reads a body sent with Upgrade, and closes after the page's answer", async () => {
    const reply = await rawExchange(
      s.port,
      'POST /echo.py HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nContent-Length: 5\r\n\r\nhello',
      { then: 'open', waitMs: 20_000 },
    );
    expect(reply.status).toBe(200);
    expect(reply.bytes.toString('latin1')).toMatch(/\r\n5 2cf24dba/);
    expect(reply.closed).toBe(true);
  });
});
