// The deployment kit's tests run the real thing: deploy/'s templates filled
// in by deploy/render with the test's free ports and temp paths, Debian's
// nginx and HAProxy as child processes in the foreground (their pid, logs
// and temp files in the test's folder), ended by pid.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { stopChild, waitFor } from '../helpers.js';

export const DEPLOY = new URL('../../deploy/', import.meta.url).pathname;
export const FIXTURES = new URL('../fixtures/deploy/', import.meta.url).pathname;

/** Runs deploy/render on a template of deploy/ with these PYPAGES_* variables; returns the text. */
export function render(template: string, vars: Record<string, string>): string {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  for (const [name, value] of Object.entries(vars)) env[`PYPAGES_${name}`] = value;
  return execFileSync(join(DEPLOY, 'render'), [join(DEPLOY, template)], { env, encoding: 'utf8' });
}

/** A TCP port nothing listens on now, on 127.0.0.1 (the kernel's pick, released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** True while something accepts connections on 127.0.0.1:port. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface Cert {
  cert: string;
  key: string;
  /** Certificate then key, as HAProxy takes them. */
  pem: string;
  ca: Buffer;
}

/** A throwaway self-signed certificate for `name`, made by openssl in `dir`. */
export function makeCert(dir: string, name: string): Cert {
  const [cert, key, pem] = ['cert.pem', 'key.pem', 'combined.pem'].map((f) => join(dir, f));
  const subject = ['-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`];
  const args = [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    ...subject,
    '-keyout',
    key,
    '-out',
    cert,
  ];
  execFileSync('openssl', args, { stdio: 'ignore' });
  writeFileSync(pem, readFileSync(cert) + readFileSync(key, 'utf8'));
  return { cert, key, pem, ca: readFileSync(cert) };
}

export interface ProxyProcess {
  proc: ChildProcess;
  log: () => string;
  stop(): Promise<void>;
}

function watched(proc: ChildProcess, logFile: string, ports: number[], what: string): Promise<ProxyProcess> {
  let output = '';
  proc.stdout?.on('data', (d) => (output += d));
  proc.stderr?.on('data', (d) => (output += d));
  const log = () => output + (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const exited = new Promise<never>((_, reject) =>
    proc.once('exit', (code) => reject(new Error(`${what} exited with ${code}:\n${log()}`))),
  );
  const up = waitFor(async () => (await Promise.all(ports.map(listening))).every(Boolean), `${what} to listen`, 15_000);
  return Promise.race([up, exited]).then(() => ({ proc, log, stop: () => stopChild(proc) }));
}

/**
 * Starts nginx in the foreground on `site` (a rendered deploy/nginx file,
 * included in http {} as Debian's sites-enabled are), with its pid, logs and
 * temp folders in `dir`; resolves once every port in `ports` accepts.
 */
export function startNginx(dir: string, site: string, ports: number[]): Promise<ProxyProcess> {
  writeFileSync(join(dir, 'site.conf'), site);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${join(dir, t)};`);
  // Root's nginx would run its workers as nobody, who cannot enter the test's private folder.
  const user = process.getuid?.() === 0 ? 'user root root;' : '';
  writeFileSync(
    join(dir, 'nginx.conf'),
    `${user}\ndaemon off;\nworker_processes 1;\npid ${join(dir, 'nginx.pid')};\nerror_log ${join(dir, 'error.log')} info;\n` +
      `events { worker_connections 512; }\nhttp {\n  access_log ${join(dir, 'access.log')};\n  ${temp.join('\n  ')}\n` +
      `  include ${join(dir, 'site.conf')};\n}\n`,
  );
  const proc = spawn('/usr/sbin/nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return watched(proc, join(dir, 'error.log'), ports, 'nginx');
}

/** Starts HAProxy in the foreground on `config` (a rendered deploy/haproxy file), its pid file in `dir`. */
export function startHaproxy(dir: string, config: string, ports: number[]): Promise<ProxyProcess> {
  writeFileSync(join(dir, 'haproxy.cfg'), config);
  const proc = spawn('/usr/sbin/haproxy', ['-db', '-f', join(dir, 'haproxy.cfg'), '-p', join(dir, 'haproxy.pid')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return watched(proc, '/nonexistent', ports, 'haproxy');
}

/** HAProxy's user and group lines: the test's own user, so it runs without root too. */
export function haproxyUser(): Record<string, string> {
  return { HAPROXY_USER: userInfo().username, HAPROXY_GROUP: execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim() };
}
