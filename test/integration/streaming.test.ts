// 1 GiB each way in bounded memory: the request body is pulled as Python
// reads it, the response is credited as the client takes it.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAUNCHES, startTestServer, type TestServer } from '../helpers.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** Runs `work` while sampling this process's RSS; returns the peak growth in bytes. */
async function rssGrowth(work: () => Promise<void>): Promise<number> {
  global.gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 25);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, process.memoryUsage().rss) - base;
}

function gibibyteBody(): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(MiB).fill(97);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= GiB) return controller.close();
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
}

describe.each(LAUNCHES)('launch %s', (launch) => {
  let s: TestServer;
  beforeAll(async () => (s = await startTestServer({ launch })));
  afterAll(() => s.stop());

  describe('streaming', () => {
    it('uploads 1 GiB in bounded memory on both sides', async () => {
      let answer = '';
      const growth = await rssGrowth(async () => {
        const res = await s.get('/count_upload.py', {
          method: 'POST',
          body: gibibyteBody(),
          duplex: 'half',
          headers: { 'Content-Type': 'application/octet-stream' },
        } as RequestInit);
        answer = await res.text();
      });
      const [total, pythonMaxRssKiB] = answer.split(' ').map(Number);
      expect(total).toBe(GiB);
      expect(pythonMaxRssKiB * 1024).toBeLessThan(100 * MiB);
      expect(growth).toBeLessThan(200 * MiB);
    });

    it('downloads 1 GiB in bounded memory', async () => {
      let received = 0;
      const growth = await rssGrowth(async () => {
        const res = await s.get(`/download.py?size=${GiB}`);
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) received += chunk.length;
      });
      expect(received).toBe(GiB);
      expect(growth).toBeLessThan(200 * MiB);
    });

    it('slows the page down instead of buffering when the client does not read', async () => {
      const socket = connect(s.port, '127.0.0.1');
      socket.write(`GET /download.py?size=${GiB} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      socket.pause();
      const growth = await rssGrowth(() => new Promise((r) => setTimeout(r, 1500))); // a sleep on purpose: the client reads nothing for 1.5 s
      let received = 0;
      socket.on('data', (c: Buffer) => (received += c.length));
      socket.resume();
      await new Promise((r) => socket.on('end', r));
      expect(growth).toBeLessThan(64 * MiB);
      expect(received).toBeGreaterThan(GiB);
    });
  });
});
