// Raw (unencoded) non-ASCII bytes in the request target. Apache passes them
// to PATH_INFO as latin-1; Node's HTTP parser (llhttp, built strict) refuses
// them before any of pypages' code runs, and no option of node:http lets
// them through: not even insecureHTTPParser, which turns on every lenient
// flag llhttp has (headers, chunked length, keep-alive, transfer-encoding,
// version, data after close, optional CR/LF, spaces after chunk size),
// none of which is about the URL. README "How URLs map to files" documents
// the limit; these tests pin it, so a Node that lifts it is noticed, and
// show that the same bytes percent-encoded reach the page as Apache's would.
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers.js';

/** Sends `target` as raw bytes in a request line; the status line of the answer ('' if none). */
async function statusOf(port: number, target: Buffer): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  socket.write(
    Buffer.concat([Buffer.from('GET '), target, Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')]),
  );
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('latin1').split('\r\n')[0];
}

const CAFE = Buffer.from('/env.py/caf\xc3\xa9', 'latin1'); // "café" in UTF-8, unencoded

describe('raw non-ASCII bytes in the path', () => {
  let s: TestServer;
  beforeAll(async () => (s = await startTestServer()));
  afterAll(() => s.stop());

  it('are refused with 400 by Node before pypages sees the request', async () => {
    expect(await statusOf(s.port, CAFE)).toBe('HTTP/1.1 400 Bad Request');
  });

  it('reach PATH_INFO as latin-1 when percent-encoded, as Apache passes the raw bytes', async () => {
    const env = (await (await s.get('/env.py/caf%C3%A9')).json()) as Record<string, string>;
    expect(env.PATH_INFO).toBe('/caf\xc3\xa9');
  });
});

describe("Node's parser", () => {
  let bare: Server;
  let urls: string[];
  beforeAll(async () => {
    urls = [];
    bare = createServer({ insecureHTTPParser: true }, (req, res) => {
      urls.push(req.url ?? '');
      res.end();
    });
    await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
  });
  afterAll(() => new Promise<void>((r) => bare.close(() => r())));

  it('refuses raw bytes above 0x7f even with every lenient flag on (insecureHTTPParser)', async () => {
    const port = (bare.address() as AddressInfo).port;
    expect(await statusOf(port, CAFE)).toBe('HTTP/1.1 400 Bad Request');
    expect(await statusOf(port, Buffer.from('/caf%C3%A9'))).toBe('HTTP/1.1 200 OK');
    expect(urls).toEqual(['/caf%C3%A9']);
  });
});
