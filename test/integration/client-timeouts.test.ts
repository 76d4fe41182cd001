// client-timeout: a silent client is let go after the time between bytes,
// never a slow but moving one, and never because a page works long.
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, waitFor, type TestServer } from '../helpers.js';
import { rawExchange } from '../raw-client.js';

const FIXTURES = new URL('../fixtures/', import.meta.url).pathname;

describe('client-timeout', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ clientTimeout: 1, threads: 1, requestTimeout: 0 });
    cpSync(join(FIXTURES, 'reliability'), s.root, { recursive: true });
    cpSync(join(FIXTURES, 'http', 'started_then_reads.py'), join(s.root, 'started_then_reads.py'));
  });
  afterAll(() => s.stop());

  it('closes a connection that sends nothing', async () => {
    const reply = await rawExchange(s.port, '', { then: 'open', waitMs: 5000 });
    expect(reply.closed).toBe(true);
    expect(reply.bytes.length).toBe(0);
    expect(reply.ms).toBeGreaterThanOrEqual(900);
  });

  it('answers 408 to half a request head, then closes', async () => {
    const reply = await rawExchange(s.port, 'GET /hello.py HTTP/1.1\r\nHo', { then: 'open', waitMs: 5000 });
    expect(reply.status).toBe(408);
    expect(reply.closed).toBe(true);
  });

  it("answers 408 to a body that stops, and frees the page's only thread", async () => {
    const reply = await rawExchange(
      s.port,
      'POST /trickle_reader.py HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc',
      {
        then: 'open',
        waitMs: 5000,
      },
    );
    expect(reply.status).toBe(408);
    expect(reply.bytes.toString()).toMatch(/Request id: \S+/);
    expect(reply.closed).toBe(true);
    const next = await s.get('/trickle_reader.py', { method: 'POST', body: 'hello' });
    expect(await next.text()).toBe('5 bytes');
    expect(s.log.errors.some((l) => /client was silent for client-timeout.*408/.test(l))).toBe(true);
  });

  it('does the same for a chunked body that stops', async () => {
    const reply = await rawExchange(
      s.port,
      'POST /trickle_reader.py HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n',
      { then: 'open', waitMs: 5000 },
    );
    expect(reply.status).toBe(408);
    expect(reply.closed).toBe(true);
  });

  it('closes the connection when the body stops after the answer started', async () => {
    const reply = await rawExchange(
      s.port,
      'POST /started_then_reads.py HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc',
      {
        then: 'open',
        waitMs: 5000,
      },
    );
    expect(reply.status).toBe(200);
    expect(reply.closed).toBe(true);
    expect(reply.bytes.toString()).not.toContain('read it all');
    expect((await s.get('/started_then_reads.py', { method: 'POST', body: 'x' })).status).toBe(200); // its thread is free
  });

  it('never cuts a slow but moving upload', async () => {
    const { connect } = await import('node:net');
    const socket = connect(s.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    const closed = new Promise((r) => socket.on('close', r));
    socket.write('POST /trickle_reader.py HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nConnection: close\r\n\r\n');
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 400)); // a sleep on purpose: a slow upload, 2.4 s in all, each gap under the 1 s limit
      socket.write('x');
    }
    await closed;
    expect(Buffer.concat(chunks).toString()).toMatch(/^HTTP\/1\.1 200[\s\S]*\r\n6 bytes\r\n/);
  });

  it('never cuts a page that works longer than client-timeout', async () => {
    const res = await s.get('/sleepy.py?s=2.5');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('v1');
  });

  it('disconnects a client that reads nothing of its answer, and frees the page', async () => {
    const reply = await rawExchange(s.port, 'GET /download.py?size=200000000 HTTP/1.1\r\nHost: x\r\n\r\n', {
      then: 'open',
      pauseReadingMs: 4000,
      waitMs: 8000,
    });
    expect(reply.status).toBe(200);
    expect(reply.bytes.length).toBeLessThan(200_000_000);
    await waitFor(
      () => s.log.errors.some((l) => /client was silent.*closing the connection/.test(l)),
      'the client-timeout log line',
    );
    await waitFor(() => s.groups.inflight === 0, 'the page to be freed');
  });

  it('closes an idle keep-alive connection after keep-alive-timeout', async () => {
    const reply = await rawExchange(s.port, 'GET /hello.py HTTP/1.1\r\nHost: x\r\n\r\n', {
      then: 'open',
      waitMs: 10_000,
    });
    expect(reply.status).toBe(200);
    expect(reply.closed).toBe(true);
    expect(reply.ms).toBeLessThan(9000); // 5 s by default
  });
});
