// HTTP/2 over TLS (--cert/--key), with HTTP/1.1 still offered by ALPN:
// curl --http2 for pages, static files, streaming and uploads with limits;
// node:http2's client where a test must hold a stream still (backpressure,
// a silent upload). The request path is node:http's, through node:http2's
// compatibility API, so each rule is checked again over HTTP/2.

import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, type ClientHttp2Session } from 'node:http2';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestServer, tempDir, waitFor, type TestServer } from '../helpers.js';

const run = promisify(execFile);
let dir: string;
let certFile: string;
let keyFile: string;

beforeAll(() => {
  dir = tempDir('pypages-h2-');
  [certFile, keyFile] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
  // biome-ignore format: openssl's arguments, as typed
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile],
    { stdio: 'pipe' });
});
afterAll(() => removeDir(dir));

interface Curl {
  version: string;
  status: number;
  body: string;
}

/** curl against the server; -w appends the protocol and status after the body. */
async function curl(s: TestServer, path: string, ...args: string[]): Promise<Curl> {
  const url = `https://127.0.0.1:${s.port}${path}`;
  const { stdout } = await run(
    'curl',
    ['-s', '--cacert', certFile, '-w', '\n%{http_version} %{http_code}', ...args, url],
    {
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const at = stdout.lastIndexOf('\n');
  const [version, status] = stdout.slice(at + 1).split(' ');
  return { version, status: Number(status), body: stdout.slice(0, at) };
}

describe('HTTP/2 with --cert and --key', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ cert: certFile, key: keyFile, maxBody: 1024 * 1024, clientTimeout: 2 });
    writeFileSync(join(s.root, 'trickle.py'), TRICKLE);
  });
  afterAll(() => s?.stop());

  it('serves a page over HTTP/2, and over HTTP/1.1 to a client that asks for it', async () => {
    expect(await curl(s, '/hello.py', '--http2')).toEqual({ version: '2', status: 200, body: 'Hello, World!' });
    expect(await curl(s, '/hello.py', '--http1.1')).toEqual({ version: '1.1', status: 200, body: 'Hello, World!' });
  });

  it('gives the page the environ: SERVER_PROTOCOL HTTP/2, Host from :authority, no pseudo-headers', async () => {
    const res = await curl(s, '/env.py/x?q=1', '--http2', '-H', 'X-Test: yes');
    const env = JSON.parse(res.body) as Record<string, string>;
    expect(env.SERVER_PROTOCOL).toBe('HTTP/2');
    expect(env.HTTP_HOST).toBe(`127.0.0.1:${s.port}`);
    expect(env.SERVER_NAME).toBe('127.0.0.1');
    expect([env.PATH_INFO, env.QUERY_STRING, env.HTTPS, env.HTTP_X_TEST]).toEqual(['/x', 'q=1', 'on', 'yes']);
    expect(Object.keys(env).filter((k) => k.includes(':'))).toEqual([]);
  });

  it('serves static files (GET and HEAD) and redirects folders', async () => {
    const css = readFileSync(join(s.root, 'style.css'), 'utf8');
    expect(await curl(s, '/style.css', '--http2')).toEqual({ version: '2', status: 200, body: css });
    const head = await curl(s, '/style.css', '--http2', '-I');
    expect(head.body).toMatch(/^content-type: text\/css/m);
    expect(head.body).toMatch(new RegExp(`^content-length: ${Buffer.byteLength(css)}`, 'm'));
    expect((await curl(s, '/sub', '--http2')).status).toBe(301);
  });

  it('streams a 4 MiB download and a 900 KiB upload without Content-Length', async () => {
    const down = await curl(s, '/download.py?size=4194304', '--http2');
    expect([down.version, down.status, down.body.length]).toEqual(['2', 200, 4194304]);
    const body = join(dir, 'upload.bin');
    writeFileSync(body, Buffer.alloc(900 * 1024, 7));
    // Content-Length left out: over HTTP/2 the body ends with the stream.
    const up = await curl(s, '/count_upload.py', '--http2', '-T', body, '-H', 'Content-Length:');
    expect(up.body.split(' ')[0]).toBe(String(900 * 1024));
  });

  it('refuses bodies over max-body with 413: declared, and as they grow', async () => {
    const body = join(dir, 'big.bin');
    writeFileSync(body, Buffer.alloc(2 * 1024 * 1024, 7));
    const declared = await curl(s, '/count_upload.py', '--http2', '--data-binary', `@${body}`);
    expect([declared.version, declared.status]).toEqual(['2', 413]);
    const streamed = await curl(s, '/count_upload.py', '--http2', '-T', body, '-H', 'Content-Length:');
    expect(streamed.status).toBe(413);
    expect((await curl(s, '/hello.py', '--http2')).status).toBe(200);
  });

  it('writes the access log line with HTTP/2.0', async () => {
    await curl(s, '/hello.py?logged', '--http2');
    await waitFor(() => s.log.lines.some((l) => l.includes('"GET /hello.py?logged HTTP/2.0" 200 13')), 'the line');
  });

  it('holds a page back while its client reads nothing (flow control), then sends it all', async () => {
    const session = connect(`https://127.0.0.1:${s.port}`, { ca: readFileSync(certFile) });
    try {
      const stream = session.request({ ':path': '/trickle.py' });
      stream.pause();
      const produced = () => Number(readFileSyncOr(join(s.root, 'trickle.progress')));
      // The page blocks once the windows and pipes are full: its count stops growing, far short of 64 MiB.
      let last = -1;
      await waitFor(
        async () => {
          const now = produced();
          const still = now === last && now > 0;
          last = now;
          await new Promise((r) => setTimeout(r, 300));
          return still;
        },
        'the page to block',
        20_000,
      );
      expect(last * 65536).toBeLessThan(16 * 1024 * 1024);
      let received = 0;
      stream.on('data', (d: Buffer) => (received += d.length));
      stream.resume();
      await new Promise((r) => stream.once('end', r));
      expect(received).toBe(64 * 1024 * 1024);
    } finally {
      session.destroy();
    }
  }, 60_000);

  it('answers 408 to an upload stream that goes silent, other streams of the connection unharmed', async () => {
    const session = connect(`https://127.0.0.1:${s.port}`, { ca: readFileSync(certFile) });
    try {
      const silent = session.request({ ':method': 'POST', ':path': '/count_upload.py' });
      silent.write(Buffer.alloc(1000));
      const status = await responseStatus(silent);
      expect(status).toBe(408);
      const ok = session.request({ ':path': '/hello.py' });
      ok.end();
      expect(await responseStatus(ok)).toBe(200);
    } finally {
      session.destroy();
    }
  }, 20_000);
});

/** A page that streams 64 MiB in 64 KiB pieces, writing how many it has made to trickle.progress. */
const TRICKLE = `
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    chunk = b"y" * 65536
    for i in range(1024):
        with open("trickle.progress", "w") as f:
            f.write(str(i + 1))
        yield chunk
`;

function readFileSyncOr(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '0';
  }
}

function responseStatus(stream: ReturnType<ClientHttp2Session['request']>): Promise<number> {
  return new Promise((resolve, reject) => {
    stream.once('response', (headers) => resolve(Number(headers[':status'])));
    stream.once('error', reject);
    stream.resume();
  });
}
