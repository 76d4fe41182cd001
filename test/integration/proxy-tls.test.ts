// Behind a reverse proxy, and HTTPS served directly. Forwarding headers are
// believed only from trust-proxy peers (the test client is 127.0.0.1), and
// --cert/--key serve TLS with wsgi.url_scheme=https and HTTPS=on. The
// certificate is a throwaway one made by openssl for 127.0.0.1.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, waitFor, type TestServer } from '../helpers.js';
import { rawExchange } from '../raw-client.js';

type Environ = Record<string, string>;

const FORWARDED = {
  'X-Forwarded-For': '203.0.113.7',
  'X-Forwarded-Proto': 'https',
  'X-Forwarded-Host': 'www.example.com',
};

async function environ(s: TestServer, headers: Record<string, string> = {}, path = '/env.py'): Promise<Environ> {
  const res = await s.get(path, { headers });
  expect(res.status).toBe(200);
  return res.json();
}

describe('forwarding headers from a trusted proxy', () => {
  let s: TestServer;
  beforeAll(async () => (s = await startTestServer({ trustProxy: ['10.0.0.0/8', '127.0.0.1'] })));
  afterAll(() => s.stop());

  it('apply X-Forwarded-For, -Proto and -Host to REMOTE_ADDR, the scheme and the host', async () => {
    const env = await environ(s, FORWARDED);
    expect(env.REMOTE_ADDR).toBe('203.0.113.7');
    expect(env['wsgi.url_scheme']).toBe('https');
    expect(env.HTTPS).toBe('on');
    expect(env.HTTP_HOST).toBe('www.example.com');
    expect(env.SERVER_NAME).toBe('www.example.com');
    expect(env.SERVER_PORT).toBe('443');
  });

  it('apply RFC 7239 Forwarded, quoted IPv6 node and port included', async () => {
    const env = await environ(s, { Forwarded: 'for="[2001:db8::7]:4711";proto=https;host="shop.example:8443"' });
    expect(env.REMOTE_ADDR).toBe('2001:db8::7');
    expect(env.REMOTE_PORT).toBe('4711');
    expect(env['wsgi.url_scheme']).toBe('https');
    expect(env.HTTP_HOST).toBe('shop.example:8443');
    expect(env.SERVER_NAME).toBe('shop.example');
    expect(env.SERVER_PORT).toBe('8443');
  });

  it('take the rightmost untrusted hop of a chain, not a spoofed leftmost one', async () => {
    const env = await environ(s, { 'X-Forwarded-For': '6.6.6.6, 203.0.113.7, 10.1.2.3' });
    expect(env.REMOTE_ADDR).toBe('203.0.113.7');
  });

  it('log the client address in the access log', async () => {
    await environ(s, { 'X-Forwarded-For': '198.51.100.23' }, '/env.py?logged');
    await waitFor(
      () => s.log.lines.some((l) => l.startsWith('198.51.100.23 ') && l.includes('/env.py?logged')),
      'the access log line',
    );
  });

  it('leave the request alone when no forwarding header is sent', async () => {
    const env = await environ(s);
    expect(env.REMOTE_ADDR).toBe('127.0.0.1');
    expect(env['wsgi.url_scheme']).toBe('http');
    expect(env.HTTP_HOST).toBe(`127.0.0.1:${s.port}`);
  });
});

describe('forwarding headers from anyone else', () => {
  let s: TestServer;
  beforeAll(async () => (s = await startTestServer({ trustProxy: ['10.0.0.0/8', '::1'] })));
  afterAll(() => s.stop());

  it("are ignored: REMOTE_ADDR, scheme and host are the connection's own", async () => {
    const env = await environ(s, { ...FORWARDED, Forwarded: 'for=203.0.113.9;proto=https;host=evil.example' });
    expect(env.REMOTE_ADDR).toBe('127.0.0.1');
    expect(env['wsgi.url_scheme']).toBe('http');
    expect(env.HTTPS).toBeUndefined();
    expect(env.HTTP_HOST).toBe(`127.0.0.1:${s.port}`);
    expect(env.SERVER_NAME).toBe('127.0.0.1');
    expect(env.SERVER_PORT).toBe(String(s.port));
    expect(env.HTTP_X_FORWARDED_FOR).toBe('203.0.113.7'); // still visible to the app as a plain header
  });

  it('are ignored by default (no trust-proxy)', async () => {
    const plain = await startTestServer();
    try {
      const env = await environ(plain, FORWARDED);
      expect(env.REMOTE_ADDR).toBe('127.0.0.1');
      expect(env['wsgi.url_scheme']).toBe('http');
    } finally {
      await plain.stop();
    }
  });
});

describe('HTTPS with --cert and --key', () => {
  let dir: string;
  let cert: Buffer;
  let s: TestServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pypages-tls-'));
    const [certFile, keyFile] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        keyFile,
        '-out',
        certFile,
      ],
      { stdio: 'pipe' },
    );
    cert = readFileSync(certFile);
    s = await startTestServer({ cert: certFile, key: keyFile, trustProxy: ['10.0.0.0/8'], clientTimeout: 2 });
  });
  afterAll(async () => {
    try {
      await s?.stop(); // undefined if beforeAll failed before starting it
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  /** GET over TLS, verifying the server against the throwaway certificate. */
  function tlsGet(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(new URL(path.replace(/^\//, ''), s.url), { ca: cert, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('listens on https://', () => {
    expect(s.url).toBe(`https://127.0.0.1:${s.port}/`);
  });

  it('gives pages wsgi.url_scheme=https and HTTPS=on', async () => {
    const res = await tlsGet('/env.py/tls?x=1');
    expect(res.status).toBe(200);
    const env = JSON.parse(res.body) as Environ;
    expect(env['wsgi.url_scheme']).toBe('https');
    expect(env.HTTPS).toBe('on');
    expect(env.PATH_INFO).toBe('/tls');
    expect(env.SERVER_PORT).toBe(String(s.port));
  });

  it('keeps https when an untrusted client claims X-Forwarded-Proto: http', async () => {
    const env = JSON.parse((await tlsGet('/env.py', { 'X-Forwarded-Proto': 'http' })).body) as Environ;
    expect(env['wsgi.url_scheme']).toBe('https');
  });

  it('serves static files over TLS too', async () => {
    const res = await tlsGet('/style.css');
    expect(res.status).toBe(200);
  });

  it.each([
    ['sends nothing', ''],
    ['sends 3 bytes of a ClientHello', '\x16\x03\x01'],
  ])("lets go of a client that %s after client-timeout, not TLS's 120 s", async (_, bytes) => {
    const reply = await rawExchange(s.port, bytes, { then: 'open', waitMs: 30_000 });
    expect(reply.closed).toBe(true);
    expect(reply.ms).toBeGreaterThanOrEqual(1500);
    expect(reply.ms).toBeLessThan(20_000); // 2 s, plus the slack of a loaded machine
  });
});
