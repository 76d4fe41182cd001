// pypages in a child process, for the suites that try to kill it (abort
// sweep, fuzzer, soak): a crash there is counted and reported with the
// server's last words instead of ending the test run. Plain JavaScript so the
// soak script (node test/soak/soak.mjs) can use it without a build step.
//
// Every process of one ChildServer carries PYPAGES_TEST_MARK=<random> in its
// environment (Python workers and fork servers inherit it), so its Python
// processes are found in /proc even after a crash has orphaned them.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, cpSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processTable, statsOf } from './procs.mjs';

const REPO = new URL('../../', import.meta.url).pathname;
const MAIN = new URL('./server-main.mjs', import.meta.url).pathname;
export const PAGES = join(REPO, 'test/fixtures/pages');
export const ABUSE_PAGES = join(REPO, 'test/fixtures/abuse');
export const STATUS_PATH = '/-/status';
const TAIL_LINES = 400;
const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;

/** Throws unless every server/ and lib/ TypeScript file has a newer dist/ build: the child runs dist/. */
export function assertBuilt() {
  for (const dir of ['server', 'lib']) {
    for (const name of readdirSync(join(REPO, dir))) {
      if (!name.endsWith('.ts')) continue;
      const built = join(REPO, 'dist', dir, name.replace(/\.ts$/, '.js'));
      const newer = statSync(built, { throwIfNoEntry: false });
      if (!newer || newer.mtimeMs < statSync(join(REPO, dir, name)).mtimeMs) {
        throw new Error(
          `dist/ is older than ${dir}/${name}: run "npx tsc -p ." before this suite (it runs the server from dist/)`,
        );
      }
    }
  }
}

/** The fixture pages plus test/fixtures/abuse, copied into `root`. */
export function copyFixtures(root) {
  cpSync(PAGES, root, { recursive: true });
  cpSync(ABUSE_PAGES, root, { recursive: true });
}

/**
 * Starts pypages in a child process on a fresh temp root filled by `populate`
 * (default: copyFixtures), with makeConfig overrides `config` (statusPath is
 * set to STATUS_PATH). Resolves once it listens; rejects with its stderr if it
 * cannot start.
 */
export async function startChildServer(config = {}, populate = copyFixtures) {
  assertBuilt();
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'pypages-child-')));
  chmodSync(root, 0o755); // as root, static files are sent only below folders others may pass (lib/http/static/readable.ts)
  try {
    populate(root);
    const server = new ChildServer(root, { statusPath: STATUS_PATH, ...config });
    await server.start();
    return server;
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
}

export class ChildServer {
  /** Unexpected exits: { code, signal, stderr (last lines), at (ms) }. */
  crashes = [];
  /** The last stderr lines of the current (or last) server process. */
  stderrTail = [];
  /** Access-log lines seen on stdout, all processes together. */
  accessLines = 0;
  port = 0;
  pid = 0;

  constructor(root, config) {
    this.root = root;
    this.config = config;
    this.mark = randomBytes(8).toString('hex');
    this.child = null;
    this.stopping = false;
    this.onCrash = () => {};
  }

  get alive() {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the server process (again, after a crash: a new port and pid). */
  start() {
    this.stderrTail = [];
    const child = spawn(process.execPath, [MAIN, JSON.stringify({ root: this.root, config: this.config })], {
      cwd: REPO,
      env: { ...process.env, PYPAGES_TEST_MARK: this.mark },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    running.add(child);
    child.once('exit', () => running.delete(child));
    lines(child.stderr, (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > TAIL_LINES) this.stderrTail.shift();
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`the server did not start within ${START_TIMEOUT_MS} ms:\n${this.stderrTail.join('\n')}`)),
        START_TIMEOUT_MS,
      );
      lines(child.stdout, (line) => {
        if (!line.startsWith('PYPAGES-CHILD-READY ')) return void this.accessLines++;
        ({ port: this.port, pid: this.pid } = JSON.parse(line.slice('PYPAGES-CHILD-READY '.length)));
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (!this.port || this.child !== child)
          return reject(new Error(`the server exited at start (${code ?? signal}):\n${this.stderrTail.join('\n')}`));
        if (this.stopping) return;
        const crash = { code, signal, stderr: this.stderrTail.join('\n'), at: Date.now() };
        this.crashes.push(crash);
        this.onCrash(crash);
      });
    });
  }

  /** After a crash: starts a new server process on the same root. */
  async restart() {
    if (this.alive) throw new Error('restart() of a running server');
    this.port = 0;
    await this.start();
  }

  /** The status page's JSON report. */
  async status() {
    const res = await httpGet(this.port, `${STATUS_PATH}?json`);
    if (res.status !== 200) throw new Error(`status page: ${res.status}`);
    return JSON.parse(res.body.toString());
  }

  /**
   * Waits (at most timeoutMs) until the server has no request in flight,
   * running or queued, apart from the status request asking; resolves with
   * how many it still counts then (0: idle).
   */
  async waitIdle(timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    let left = -1;
    while (this.alive) {
      const st = await this.status().catch(() => null);
      if (st) left = st.server.requestsInFlight - 1 + st.totals.inflight + st.totals.queued;
      if (left === 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    return left;
  }

  /**
   * Python processes of this server, from /proc: `live` are below the
   * running server process, `orphans` carry this server's mark but are not
   * (a crash or a leak left them behind).
   */
  pythons() {
    const table = processTable();
    const below = (p) => p.ppid === this.pid || (table.has(p.ppid) && below(table.get(p.ppid)));
    const mine = [...table.values()].filter(
      (p) => p.comm.startsWith('python') && p.environ.includes(`PYPAGES_TEST_MARK=${this.mark}`),
    );
    const brief = ({ pid, ppid, comm }) => ({ pid, ppid, comm });
    const live = this.alive ? mine.filter(below) : [];
    return { live: live.map(brief), orphans: mine.filter((p) => !live.includes(p)).map(brief) };
  }

  /** RSS and open fds of the server process and each of its Python processes. */
  processStats() {
    const out = [{ role: 'node', pid: this.pid, ...statsOf(this.pid) }];
    for (const p of this.pythons().live)
      out.push({ role: p.ppid === this.pid ? 'python-direct' : 'python-forked', pid: p.pid, ...statsOf(p.pid) });
    return out;
  }

  /** Graceful stop (SIGKILL after a grace), kills any Python process left with our mark, removes the root. */
  async stop() {
    this.stopping = true;
    const child = this.child;
    if (child && this.alive) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    // Our own marked processes only: the test reports orphans before it stops the server.
    for (const p of this.pythons().orphans) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** The lines of a crash's stderr that say what killed the server (Node's uncaught-error report), else its last line. */
export function crashSummary(crash) {
  const lines = crash.stderr.split('\n').filter((l) => !l.startsWith('[20')); // not the server's own log lines
  const key = lines.filter((l) => /^\s*(\w*Error\b|Emitted 'error'|.*Unhandled|\s+code: )/.test(l));
  return `exit ${crash.code ?? crash.signal}: ${(key.length ? key : lines.slice(-1)).map((l) => l.trim()).join(' | ')}`;
}

// A test run that ends early (a failed hook, vitest tearing down) leaves no server behind.
const running = new Set();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Calls `onLine` for each line of a readable stream (text). */
function lines(stream, onLine) {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (text) => {
    const parts = (rest + text).split('\n');
    rest = parts.pop();
    for (const line of parts) onLine(line);
  });
}

/**
 * A request on a new connection (no pooling across server restarts):
 * resolves with { status, headers, body }; rejects after timeoutMs.
 * @param {number} port
 * @param {string} path
 * @param {number} [timeoutMs]
 * @param {string} [method]
 * @param {string | Buffer} [body]
 */
export function httpGet(port, path, timeoutMs = 10_000, method = 'GET', body = undefined) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
