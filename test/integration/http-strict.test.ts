// A request's connection can end at any moment, in any state of its page,
// and the server lives; where RFC 9112 is strict, so is pypages.
import { cpSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupLoad, startTestServer, waitFor, type TestServer } from '../helpers.js';
import { rawExchange } from '../raw-client.js';

const FIXTURES = new URL('../fixtures/', import.meta.url).pathname;

/** A copy of hello.py no worker has run yet: its first request waits for a worker to start. */
function coldPage(s: TestServer): string {
  const name = `cold_${Math.random().toString(36).slice(2)}.py`;
  copyFileSync(join(s.root, 'trickle_reader.py'), join(s.root, name));
  return `/${name}`;
}

async function alive(s: TestServer): Promise<void> {
  const res = await s.get('/hello.py');
  expect(await res.text()).toBe('Hello, World!');
}

describe('a body that never comes', () => {
  let s: TestServer;
  let small: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ threads: 1 });
    small = await startTestServer({ maxBody: 1000 });
    for (const server of [s, small]) cpSync(join(FIXTURES, 'reliability'), server.root, { recursive: true });
  });
  afterAll(async () => {
    await s.stop();
    await small.stop();
  });

  it.each(['fin', 'rst'] as const)('a malformed chunk to a cold page: 400, and the server lives (%s)', async (then) => {
    const reply = await rawExchange(
      s.port,
      `POST ${coldPage(s)} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`,
      {
        then,
      },
    );
    if (then === 'fin') expect(reply.status).toBe(400);
    await alive(s);
  });

  it.each(['fin', 'rst'] as const)('a connection that ends mid-body on a cold page (%s)', async (then) => {
    await rawExchange(s.port, `POST ${coldPage(s)} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc`, {
      then,
      waitMs: 1000,
    });
    await alive(s);
  });

  it.each(['fin', 'rst'] as const)('a client that waits for 100 Continue and leaves (%s)', async (then) => {
    await rawExchange(
      s.port,
      `POST ${coldPage(s)} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1000\r\n\r\n`,
      {
        then,
        waitMs: 1000,
      },
    );
    await alive(s);
  });

  it.each(['fin', 'rst'] as const)('a request waiting in line whose client leaves mid-body (%s)', async (then) => {
    const busy = s.get('/sleepy.py?s=1'); // sleepy.py's only thread
    await waitFor(() => groupLoad(s, 'sleepy.py').running === 1, 'sleepy.py to take its only thread');
    await rawExchange(s.port, 'POST /sleepy.py HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc', {
      then,
      waitMs: 300,
    });
    expect((await busy).status).toBe(200);
    await alive(s);
    await waitFor(() => s.groups.inflight === 0, 'nothing in flight');
  });

  it.each(['fin', 'rst'] as const)('under a small max-body (%s)', async (then) => {
    await rawExchange(small.port, `POST ${coldPage(small)} HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\nabc`, {
      then,
      waitMs: 1000,
    });
    await alive(small);
  });

  it('a chunked body past max-body gets the common 413 page, with its request id', async () => {
    const chunk = 'x'.repeat(600);
    const reply = await rawExchange(
      small.port,
      `POST /trickle_reader.py HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n${chunk}\r\n258\r\n${chunk}\r\n0\r\n\r\n`,
      { then: 'open', waitMs: 3000 },
    );
    expect(reply.status).toBe(413);
    expect(reply.bytes.toString()).toMatch(/Request id: \S+-\w+/);
  });
});

describe('half-closed requests', () => {
  let s: TestServer;
  beforeAll(async () => (s = await startTestServer()));
  afterAll(() => s.stop());

  it.each(['/hello.py', '/style.css', '/sub/', '/nope.py'])(
    '%s is answered after the client half-closes',
    async (path) => {
      const reply = await rawExchange(s.port, `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`, { then: 'fin' });
      expect(reply.status).toBe(path === '/nope.py' ? 404 : 200);
      expect(reply.closed).toBe(true);
    },
  );

  it('an HTTP/1.0 request with its body, then a half-close', async () => {
    cpSync(join(FIXTURES, 'reliability'), s.root, { recursive: true });
    const reply = await rawExchange(s.port, 'POST /trickle_reader.py HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello', {
      then: 'fin',
    });
    expect(reply.status).toBe(200);
    expect(reply.bytes.toString()).toMatch(/5 bytes$/);
  });
});

describe('strict where RFC 9112 is', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
    cpSync(join(FIXTURES, 'reliability'), s.root, { recursive: true });
  });
  afterAll(() => s.stop());

  it.each([
    ['two Host headers', 'GET /hello.py HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n'],
    ['two Host headers, spelt differently', 'GET /style.css HTTP/1.1\r\nHost: a.example\r\nhOsT: a.example\r\n\r\n'],
    ['two Host headers, to the health page', 'GET /-/health HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n'],
    [
      'chunked in HTTP/1.0, to the health page',
      'POST /-/health HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    ],
    [
      'chunked in HTTP/1.0',
      'POST /trickle_reader.py HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    ],
    [
      'Transfer-Encoding in HTTP/1.0 with a Content-Length',
      'POST /trickle_reader.py HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello',
    ],
  ])('%s: 400 and the connection closed', async (_, request) => {
    const reply = await rawExchange(s.port, request, { then: 'open' });
    expect(reply.status).toBe(400);
    expect(reply.closed).toBe(true);
    expect(reply.bytes.toString('latin1')).toMatch(/\r\nConnection: close\r\n/i);
  });

  it('a page that answers with a 1xx status gets 500, and the log says why', async () => {
    const res = await s.get('/informational.py');
    expect(res.status).toBe(500);
    await waitFor(
      () => s.log.errors.some((l) => l.includes('informational (1xx)') && l.includes('informational.py')),
      'the log line',
    );
  });
});
