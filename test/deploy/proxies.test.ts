// deploy/'s nginx and HAProxy configurations, run for real with Debian's
// nginx and HAProxy on 127.0.0.1. The client connects from 127.0.0.2 and the
// proxy from 127.0.0.1, the only address in pypages' trust-proxy, so the
// page tells the client's address from the proxy's.
import { execFile } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, serveTempRoot, tempDir, type TestServer } from '../helpers.js';
import {
  FIXTURES,
  freePort,
  haproxyUser,
  makeCert,
  render,
  startHaproxy,
  startNginx,
  type Cert,
  type ProxyProcess,
} from './harness.js';

const NAME = 'www.example.test';
const CLIENT = '127.0.0.2';

type Seen = Record<string, string | number | null>;

function instance(name: string): Promise<TestServer> {
  return serveTempRoot((root) => copyFileSync(join(FIXTURES, 'instance.py'), join(root, 'instance.py')), {
    trustProxy: ['127.0.0.1'],
    env: { PYPAGES_TEST_INSTANCE: name },
  });
}

/** One request from CLIENT over TLS, checked against the test certificate for NAME. */
function httpsGet(port: number, ca: Buffer, path: string, headers: Record<string, string> = {}, body?: Buffer) {
  return new Promise<{ status: number; json: Seen }>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, ca, servername: NAME, localAddress: CLIENT, method: body ? 'POST' : 'GET' },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString()) }));
      },
    );
    req.setHeader('Host', `${NAME}:${port}`);
    for (const [k, v] of Object.entries(headers)) req.setHeader(k, v);
    req.on('error', reject);
    req.end(body);
  });
}

/** A plain-HTTP request from CLIENT; the answer's status, Location and JSON body (if any). */
async function httpGet(port: number, path: string, host = `${NAME}:${port}`) {
  const { request: plain } = await import('node:http');
  return new Promise<{ status: number; location?: string; json?: Seen }>((resolve, reject) => {
    const req = plain({ host: '127.0.0.1', port, path, localAddress: CLIENT, headers: { Host: host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        const json = res.headers['content-type']?.includes('json') ? JSON.parse(text) : undefined;
        resolve({ status: res.statusCode!, location: res.headers.location, json });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const FORGED = {
  'X-Forwarded-For': '6.6.6.6',
  'X-Forwarded-Proto': 'http',
  'X-Forwarded-Host': 'evil.example',
  Forwarded: 'for=6.6.6.6;proto=http;host=evil.example',
};

interface Shape {
  proxy: 'nginx' | 'haproxy';
  start(dir: string, cert: Cert, upstream: number, https: number, http: number): Promise<ProxyProcess>;
}

const TLS_SHAPES: Shape[] = [
  {
    proxy: 'nginx',
    start: (dir, cert, upstream, https, http) =>
      startNginx(
        dir,
        render('nginx/tls-proxy.conf', {
          UPSTREAM: `127.0.0.1:${upstream}`,
          HTTPS_LISTEN: `127.0.0.1:${https}`,
          HTTP_LISTEN: `127.0.0.1:${http}`,
          SERVER_NAME: NAME,
          CERT: cert.cert,
          KEY: cert.key,
        }),
        [https, http],
      ),
  },
  {
    proxy: 'haproxy',
    start: (dir, cert, upstream, https, http) =>
      startHaproxy(
        dir,
        render('haproxy/tls-proxy.cfg', {
          ...haproxyUser(),
          UPSTREAM: `127.0.0.1:${upstream}`,
          HTTPS_BIND: `127.0.0.1:${https}`,
          HTTP_BIND: `127.0.0.1:${http}`,
          PEM: cert.pem,
        }),
        [https, http],
      ),
  },
];

// Three instances, s1 to s3: s1 serves alone behind each TLS proxy, then all three behind the balancer.
let servers: TestServer[] = [];
let stopped: TestServer | undefined;
beforeAll(async () => {
  servers = await Promise.all(['s1', 's2', 's3'].map(instance));
});
afterAll(async () => {
  await Promise.all(servers.filter((s) => s !== stopped).map((s) => s.stop()));
});

describe.each(TLS_SHAPES)('one pypages behind $proxy terminating TLS', (shape) => {
  let dir: string;
  let cert: Cert;
  let proxy: ProxyProcess;
  let https: number;
  let http: number;
  beforeAll(async () => {
    dir = tempDir('pypages-deploy-tls-');
    cert = makeCert(dir, NAME);
    [https, http] = [await freePort(), await freePort()];
    proxy = await shape.start(dir, cert, servers[0].port, https, http);
  });
  afterAll(async () => {
    await proxy?.stop();
    removeDir(dir);
  });

  it("gives the page the client's address, https and the host it asked for", async () => {
    const { status, json } = await httpsGet(https, cert.ca, '/instance.py');
    expect(status).toBe(200);
    expect(json).toMatchObject({
      REMOTE_ADDR: CLIENT,
      'wsgi.url_scheme': 'https',
      HTTPS: 'on',
      HTTP_HOST: `${NAME}:${https}`,
      SERVER_NAME: NAME,
      SERVER_PORT: String(https),
    });
  });

  it('is not fooled by forwarding headers the client sends', async () => {
    const { json } = await httpsGet(https, cert.ca, '/instance.py', FORGED);
    expect(json).toMatchObject({ REMOTE_ADDR: CLIENT, 'wsgi.url_scheme': 'https', SERVER_NAME: NAME });
    expect(json.HTTP_HOST).toBe(`${NAME}:${https}`);
  });

  it('passes a 2 MiB upload whole (no body limit of its own)', async () => {
    const body = Buffer.alloc(2 * 1024 * 1024, 7);
    const { status, json } = await httpsGet(https, cert.ca, '/instance.py', {}, body);
    expect(status).toBe(200);
    expect(json).toMatchObject({ received: body.length, sum: body.length * 7 });
  });

  it('speaks HTTP/2 to a client that offers it, and HTTP/1.1 to pypages', async () => {
    const args = ['-sS', '--http2', '--cacert', cert.cert, '--resolve', `${NAME}:${https}:127.0.0.1`];
    const url = `https://${NAME}:${https}/instance.py`;
    // Asynchronous: pypages runs in this process and must answer meanwhile.
    const { stdout } = await promisify(execFile)('curl', [
      ...args,
      '--interface',
      CLIENT,
      '-w',
      '\n%{http_version}',
      url,
    ]);
    const [body, version] = stdout.split('\n');
    expect(version).toBe('2');
    expect(JSON.parse(body)).toMatchObject({ REMOTE_ADDR: CLIENT, SERVER_PROTOCOL: 'HTTP/1.1', HTTPS: 'on' });
  });

  it('redirects plain HTTP to HTTPS', async () => {
    const res = await httpGet(http, '/instance.py?a=1', NAME);
    expect(res.status).toBe(301);
    expect(res.location).toBe(`https://${NAME}/instance.py?a=1`);
  });
});

describe('several pypages behind nginx balancing', () => {
  let dir: string;
  let proxy: ProxyProcess;
  let port: number;
  beforeAll(async () => {
    dir = tempDir('pypages-deploy-lb-');
    port = await freePort();
    const [S1, S2, S3] = servers.map((s) => `127.0.0.1:${s.port}`);
    proxy = await startNginx(dir, render('nginx/balancer.conf', { S1, S2, S3, LISTEN: `127.0.0.1:${port}` }), [port]);
  });
  afterAll(async () => {
    await proxy?.stop();
    removeDir(dir);
  });

  /** `count` requests in turn; which instances answered, and any answer that was not a 200. */
  async function spread(count: number): Promise<{ instances: Set<unknown>; failures: unknown[] }> {
    const instances = new Set<unknown>();
    const failures: unknown[] = [];
    for (let i = 0; i < count; i++) {
      const res = await httpGet(port, `/instance.py?i=${i}`);
      if (res.status !== 200 || res.json?.REMOTE_ADDR !== CLIENT) failures.push(res);
      instances.add(res.json?.instance);
    }
    return { instances, failures };
  }

  it("spreads requests over every instance, each seeing the client's address", async () => {
    const { instances, failures } = await spread(30);
    expect(failures).toEqual([]);
    expect([...instances].sort()).toEqual(['s1', 's2', 's3']);
  });

  it('sends every request to the others while one instance is stopped', async () => {
    stopped = servers[1];
    await stopped.stop();
    const { instances, failures } = await spread(30);
    expect(failures).toEqual([]);
    expect([...instances].sort()).toEqual(['s1', 's3']);
  });
});
