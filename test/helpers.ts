// Integration-test harness: a temporary document root made from
// test/fixtures/pages, and the real server on a free port with real Python.

import type { ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeConfig, type Config } from '../lib/config/config.js';
import { memoryLogger } from '../lib/util/log.js';
import { startPypages, type RunningServer } from '../server/app.js';

export const FIXTURES = new URL('./fixtures/pages/', import.meta.url).pathname;

/**
 * The two ways a worker starts: forked from a warm fork server (the default)
 * or spawned as a new interpreter. Suites whose pages run in workers run
 * under both (describe.each), as the grouping suite runs under every mode.
 */
export const LAUNCHES = ['fork', 'spawn'] as const;

/** 300000 bytes that are easy to check: byte i is (i * 7) % 251. */
export function blobBytes(): Buffer {
  const b = Buffer.alloc(300_000);
  for (let i = 0; i < b.length; i++) b[i] = (i * 7) % 251;
  return b;
}

/**
 * Test fixtures belong to whoever runs the tests: root in CI, where a page
 * owned by root is refused unless allowed. The suites that are not about
 * tenants serve as a single-user server would, so they allow it (it changes
 * nothing when not root); test/integration/tenants.test.ts is about tenants.
 */
export const AS_RUNNER = { allowRootPages: true } as const;
export const AS_RUNNER_ARGS: readonly string[] = ['--allow-root-pages'];

/**
 * A new, empty folder in the OS temp dir (its real path), mode 0755: started
 * as root, pypages sends a static file only if others may pass through every
 * folder from its site's root (lib/http/static/readable.ts), and mkdtemp makes 0700.
 * The caller removes it with removeDir.
 */
export function tempDir(prefix: string): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  chmodSync(dir, 0o755);
  return dir;
}

/** Removes a folder made by tempDir (or mkdtemp) and all it holds; no error if it is already gone. */
export function removeDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/**
 * Stops a child process and resolves once it has exited: SIGTERM first, so it
 * can stop its own children and remove its files, then SIGKILL if it is still
 * running after graceMs. Does nothing for a child that has already exited.
 */
export async function stopChild(child: ChildProcess | null | undefined, graceMs = 5000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export interface TestServer extends RunningServer {
  root: string;
  log: ReturnType<typeof memoryLogger>;
  get(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

/** Copies the fixture pages into a fresh temp root and starts pypages on it. */
export function startTestServer(overrides: Partial<Omit<Config, 'root' | 'configFile'>> = {}): Promise<TestServer> {
  return serveTempRoot((root) => {
    cpSync(FIXTURES, root, { recursive: true });
    writeFileSync(join(root, 'blob.bin'), blobBytes());
    // Copies made here rather than kept twice in fixtures/: a second script with
    // the same code, and the validator helper next to a page in a subfolder.
    copyFileSync(join(root, 'counter.py'), join(root, 'counter2.py'));
    copyFileSync(join(root, 'wsgi_check.py'), join(root, 'sub', 'wsgi_check.py'));
  }, overrides);
}

/**
 * Starts pypages on a fresh temp root that `populate` fills. stop() closes the
 * server, removes the root (also when closing fails), and fails if a
 * validator reported a PEP 3333 violation in the error log.
 */
export async function serveTempRoot(
  populate: (root: string) => void,
  overrides: Partial<Omit<Config, 'root' | 'configFile'>> = {},
): Promise<TestServer> {
  const root = tempDir('pypages-test-');
  const log = memoryLogger();
  let running: RunningServer;
  try {
    populate(root);
    // Development mode is on by default on loopback; suites that test it turn it on themselves
    // (test/integration/dev-mode.test.ts), the others see the pages and logs of a public server.
    running = await startPypages(makeConfig({ port: 0, dev: false, ...AS_RUNNER, ...overrides, root }), { log });
  } catch (err) {
    removeDir(root);
    throw err;
  }
  return {
    ...running,
    root,
    log,
    get: (path, init) => fetch(new URL(path.replace(/^\//, ''), running.url), { redirect: 'manual', ...init }),
    async stop() {
      try {
        await running.close();
      } finally {
        removeDir(root);
      }
      const failures = log.errors.filter((line) => line.includes('WSGI-VALIDATION-FAILURE'));
      if (failures.length) throw new Error(`wsgiref.validate found PEP 3333 violations:\n${failures.join('\n')}`);
    },
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  raw: Buffer;
}

/**
 * Sends bytes exactly as given (no URL normalisation, unlike fetch) on a new
 * connection with "Connection: close", and parses the one response.
 */
export async function rawRequest(
  port: number,
  method: string,
  target: string,
  extraHeaders = '',
  requestBody: string | Buffer = '',
): Promise<RawResponse> {
  const { connect } = await import('node:net');
  const socket = connect(port, '127.0.0.1');
  socket.write(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${extraHeaders}Connection: close\r\n\r\n`);
  socket.write(requestBody);
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, split).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body: Buffer = raw.subarray(split + 4);
  if (headers['transfer-encoding'] === 'chunked') body = dechunk(body);
  return { status: Number(head[0].split(' ')[1]), headers, body, raw };
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    const size = parseInt(data.subarray(at, eol).toString(), 16);
    if (!size) return Buffer.concat(parts);
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/** Polls until `probe` returns a truthy value (bounded: 5 s), and returns it. */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  what = 'condition',
  timeoutMs = 5000,
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as Truthy<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * What the group labelled `label` (for a per-script group, the script's path
 * below the root) is doing now: requests running on its workers, and
 * requests waiting in its line. Zero and zero for a group with no worker.
 */
export function groupLoad(s: TestServer, label: string): { running: number; queued: number } {
  const group = s.groups.status().find((g) => g.label === label);
  return { running: group?.processes.reduce((n, p) => n + p.inflight, 0) ?? 0, queued: group?.queued ?? 0 };
}

/** True once a new connection to 127.0.0.1:port is refused (nothing listens there any more); false while one is accepted. */
export async function connectionRefused(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

/** Python processes below `ancestor`, by default this one (workers and fork servers), from /proc. */
export async function pythonDescendants(
  ancestor = process.pid,
): Promise<{ pid: number; ppid: number; cmdline: string }[]> {
  const { readdirSync, readFileSync } = await import('node:fs');
  const procs = new Map<number, { pid: number; ppid: number; cmdline: string; comm: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      procs.set(Number(entry), { pid: Number(entry), ppid, cmdline, comm });
    } catch {
      // the process ended while we looked
    }
  }
  const below = (p: { ppid: number }): boolean =>
    p.ppid === ancestor || (procs.has(p.ppid) && below(procs.get(p.ppid)!));
  return [...procs.values()].filter((p) => p.comm.startsWith('python') && below(p));
}
