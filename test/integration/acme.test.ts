// tls: auto for real, against Debian's pebble (a test ACME CA) and its mock
// DNS: pypages obtains a certificate for its host name (localhost, which the
// mock DNS points at 127.0.0.1) by answering the HTTP-01 challenge on its
// http-port, keeps it in the state folder with safe permissions, serves it
// by SNI over HTTP/2, renews it while serving, and says clearly when a
// challenge fails while the site stays reachable.

import { readFileSync, statSync } from 'node:fs';
import { get, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestServer, tempDir, waitFor, type TestServer } from '../helpers.js';
import { freePort, startPebble, type Pebble } from './pebble.js';

let dir: string;
let pebble: Pebble;
let challengePort: number;

beforeAll(async () => {
  dir = tempDir('pypages-acme-');
  challengePort = await freePort();
  pebble = await startPebble(dir, challengePort);
}, 30_000);

afterAll(async () => {
  await pebble?.stop();
  removeDir(dir);
});

/** pypages with tls: auto for "localhost", its state in `stateDir`, HTTP-01 answered on `httpPort`. */
function autoTls(stateDir: string, extra: Record<string, unknown> = {}, httpPort = challengePort): Promise<TestServer> {
  return startTestServer({
    host: 'localhost',
    tls: 'auto',
    httpPort,
    acmeDirectory: pebble.directoryUrl,
    acmeCa: pebble.caFile,
    acmeEmail: 'ops@example.com',
    stateDir,
    ...extra,
  });
}

/** The certificate served to a client that asks for `servername`, checked against pebble's root. */
function servedCertificate(port: number, ca: string, servername = 'localhost'): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, ca, ALPNProtocols: ['h2'] }, () => {
      const cert = socket.getPeerCertificate();
      expect(socket.alpnProtocol).toBe('h2');
      socket.end();
      resolve(cert);
    });
    socket.once('error', reject);
  });
}

/** The serial of the certificate served, once there is one. */
async function servedSerial(s: TestServer): Promise<string> {
  const root = await pebble.issuerRoot();
  return waitFor(
    () =>
      servedCertificate(s.port, root).then(
        (c) => c.serialNumber,
        () => '',
      ),
    'a certificate',
    30_000,
  );
}

describe('tls: auto against pebble', () => {
  let s: TestServer;
  let state: string;
  beforeAll(async () => {
    state = join(dir, 'state');
    s = await autoTls(state);
  }, 30_000);
  afterAll(() => s?.stop());

  it('obtains a certificate for the host name by HTTP-01 and serves it by SNI, over HTTP/2', async () => {
    await servedSerial(s);
    const cert = await servedCertificate(s.port, await pebble.issuerRoot());
    expect(cert.subjectaltname).toBe('DNS:localhost');
  });

  it('keeps the account key, certificate and key in the state folder: folders 0700, files 0600', () => {
    const files = ['certificates/localhost/key.pem', 'certificates/localhost/cert.pem'];
    for (const file of files) expect(statSync(join(state, file)).mode & 0o777).toBe(0o600);
    for (const folder of ['', 'certificates', 'certificates/localhost', 'acme'])
      expect(statSync(join(state, folder)).mode & 0o777).toBe(0o700);
  });

  it('serves the site over plain HTTP on http-port too (no redirect-http)', async () => {
    const res = await fetch(`http://127.0.0.1:${s.httpPort}/hello.py`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('Hello, World!');
  });
});

describe('renewal', () => {
  let s: TestServer;
  // A renew window longer than pebble's certificate lifetime: every certificate is due as soon as it is held.
  beforeAll(async () => (s = await autoTls(join(dir, 'renewing'), { acmeRenewBefore: 315360000 })), 30_000);
  afterAll(() => s?.stop());

  it('replaces the certificate while serving, without a restart', async () => {
    const first = await servedSerial(s);
    const root = await pebble.issuerRoot();
    const renewed = await waitFor(
      () => servedCertificate(s.port, root).then((c) => c.serialNumber !== first && c.serialNumber),
      'a renewed certificate',
      40_000,
    );
    expect(renewed).not.toBe(first);
  }, 60_000);
});

describe('redirect-http', () => {
  let s: TestServer;
  beforeAll(async () => (s = await autoTls(join(dir, 'state'), { redirectHttp: true })), 30_000);
  afterAll(() => s?.stop());

  it('answers plain HTTP with a 308 to the same URL over HTTPS', async () => {
    const res = await new Promise<IncomingMessage>((resolve, reject) =>
      get({ host: '127.0.0.1', port: s.httpPort!, path: '/hello.py?x=1', headers: { Host: 'localhost' } }, resolve).on(
        'error',
        reject,
      ),
    );
    res.resume();
    expect(res.statusCode).toBe(308);
    expect(res.headers.location).toBe(`https://localhost:${s.port}/hello.py?x=1`);
  });

  it('still answers ACME challenge URLs itself (404 for a token it does not hold)', async () => {
    const res = await fetch(`http://127.0.0.1:${s.httpPort}/.well-known/acme-challenge/nope`, { redirect: 'manual' });
    expect(res.status).toBe(404);
  });
});

describe('a failed challenge', () => {
  // pebble validates on challengePort; these servers answer on another port, so every challenge fails.
  const failures = (s: TestServer) => s.log.errors.filter((l) => l.startsWith('tls: could not obtain a certificate'));

  it('without a certificate: logs why, and the site is served over plain HTTP', async () => {
    const s = await autoTls(join(dir, 'failing'), {}, await freePort());
    try {
      const [line] = await waitFor(() => failures(s).length && failures(s), 'the failure line', 30_000);
      expect(line).toContain(`for localhost from ${pebble.directoryUrl}: `);
      expect(line).toContain(`it is served over plain HTTP only (port ${s.httpPort}); next attempt in 60 s`);
      expect((await fetch(`http://127.0.0.1:${s.httpPort}/hello.py`)).status).toBe(200);
    } finally {
      await s.stop();
    }
  }, 40_000);

  it('with a stored certificate due for renewal: logs why, and keeps serving that certificate', async () => {
    const stored = new X509Certificate(readFileSync(join(dir, 'state/certificates/localhost/cert.pem')));
    const s = await autoTls(join(dir, 'state'), { acmeRenewBefore: 315360000 }, await freePort());
    try {
      const [line] = await waitFor(() => failures(s).length && failures(s), 'the failure line', 30_000);
      expect(line).toMatch(/its previous certificate \(valid until [\dT:.-]+Z\) is still served/);
      expect(await servedSerial(s)).toBe(stored.serialNumber);
    } finally {
      await s.stop();
    }
  }, 40_000);
});
