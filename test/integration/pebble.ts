// Debian's pebble (a test ACME CA, RFC 8555) and pebble-challtestsrv (its
// mock DNS server, answering 127.0.0.1 for every name), started for a test
// on free 127.0.0.1 ports. Pebble validates HTTP-01 challenges on `httpPort`
// of the name's address: the port pypages' http-port is given.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, get } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { stopChild, waitFor } from '../helpers.js';

export interface Pebble {
  directoryUrl: string;
  /** The CA file that makes pebble's own HTTPS trusted (acme-ca). */
  caFile: string;
  /** The root of the certificates pebble issues (it makes a new one at every start). */
  issuerRoot(): Promise<string>;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (the kernel's choice; free again when returned). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/** Starts challtestsrv and pebble (no sleeps, no rejected nonces); `dir` holds their files. */
export async function startPebble(dir: string, httpPort: number): Promise<Pebble> {
  const [dns, management, listen, pebbleManagement, tlsPort] = await Promise.all([
    freeUdpPort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const children: ChildProcess[] = [];
  const output: string[] = [];
  const start = (cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const s of [child.stdout!, child.stderr!]) s.on('data', (d: Buffer) => output.push(d.toString()));
    children.push(child);
  };
  start('/usr/bin/pebble-challtestsrv', [
    '-dns01',
    `127.0.0.1:${dns}`,
    '-http01',
    '',
    '-https01',
    '',
    '-tlsalpn01',
    '',
    '-management',
    `127.0.0.1:${management}`,
    '-defaultIPv4',
    '127.0.0.1',
    '-defaultIPv6',
    '',
  ]);
  const caFile = selfSigned(dir);
  const config = join(dir, 'pebble.json');
  writeFileSync(
    config,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${listen}`,
        managementListenAddress: `127.0.0.1:${pebbleManagement}`,
        certificate: join(dir, 'pebble-cert.pem'),
        privateKey: join(dir, 'pebble-key.pem'),
        httpPort,
        tlsPort,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
      },
    }),
  );
  const env = { PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' };
  start('/usr/bin/pebble', ['-config', config, '-dnsserver', `127.0.0.1:${dns}`, '-strict', 'false'], env);
  const agent = new Agent({ ca: readFileSync(caFile) });
  const fetchText = (url: string) => httpsText(url, agent);
  const directoryUrl = `https://127.0.0.1:${listen}/dir`;
  await waitFor(() => fetchText(directoryUrl).then(Boolean, () => false), `pebble\n${output.join('')}`, 15_000);
  return {
    directoryUrl,
    caFile,
    issuerRoot: () => fetchText(`https://127.0.0.1:${pebbleManagement}/roots/0`),
    stop: async () => void (await Promise.all(children.map((c) => stopChild(c)))),
  };
}

function httpsText(url: string, agent: Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, { agent }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`${url}: ${res.statusCode}`))));
    }).on('error', reject);
  });
}

/** Pebble's own HTTPS certificate, for 127.0.0.1, made by openssl; returns the file to trust. */
function selfSigned(dir: string): string {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(dir, 'pebble-key.pem'),
      '-out',
      join(dir, 'pebble-cert.pem'),
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  return join(dir, 'pebble-cert.pem');
}
