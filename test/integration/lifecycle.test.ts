// The server as a process: SIGTERM lets requests in flight finish; SIGHUP
// replaces every worker under load without failing a request.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AS_RUNNER_ARGS,
  connectionRefused,
  FIXTURES,
  rawRequest,
  removeDir,
  stopChild,
  tempDir,
  waitFor,
} from '../helpers.js';

const CLI = new URL('../../dist/server/cli.js', import.meta.url).pathname;
let child: ChildProcess | null = null;
let root: string | undefined;
// A test that failed midway leaves its server running: SIGTERM lets it stop
// its workers and remove its files (SIGKILL after a grace period), then the
// copy of the fixtures goes.
afterEach(async () => {
  await stopChild(child);
  child = null;
  removeDir(root);
  root = undefined;
});

/** Starts the compiled CLI on a copy of the fixtures; resolves with its URL once it says so. */
async function startCli(
  args: string[] = [],
): Promise<{ url: string; root: string; exited: Promise<number | null>; stderr: () => string }> {
  const dir = tempDir('pypages-life-');
  root = dir;
  cpSync(FIXTURES, dir, { recursive: true });
  child = spawn(process.execPath, [CLI, dir, '--port', '0', ...AS_RUNNER_ARGS, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: dir,
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child!.once('exit', r));
  const url = await new Promise<string>((resolve, reject) => {
    child!.stdout!.on('data', (d) => {
      out += d;
      const m = /at (http:\/\/\S+\/)/.exec(out);
      if (m) resolve(m[1]);
    });
    exited.then((code) => reject(new Error(`exited with ${code}: ${err}`)));
  });
  return { url, root: dir, exited, stderr: () => err };
}

describe('SIGTERM', () => {
  it('finishes every request in flight, refuses new connections, exits 0', async () => {
    const { url, exited } = await startCli(['--status-path', '/-/status']);
    const port = Number(new URL(url).port);
    const inflight = [1, 2, 3, 4].map(() =>
      fetch(new URL('sleepy.py?s=1', url)).then(async (r) => [r.status, await r.text()]),
    );
    await waitFor(
      async () => {
        const { totals } = JSON.parse((await rawRequest(port, 'GET', '/-/status?json')).body.toString());
        return totals.inflight + totals.queued === 4;
      },
      'the four requests to reach the server',
      20_000,
    );
    child!.kill('SIGTERM');
    await waitFor(() => connectionRefused(port), 'new connections to be refused');
    await expect(fetch(new URL('hello.py', url))).rejects.toThrow();
    expect(await Promise.all(inflight)).toEqual([
      [200, 'v1'],
      [200, 'v1'],
      [200, 'v1'],
      [200, 'v1'],
    ]);
    expect(await exited).toBe(0);
  });
});

describe('SIGTERM on a persistent connection', () => {
  it('answers the request in flight with Connection: close and closes the connection after it', async () => {
    const { url, exited } = await startCli(['--status-path', '/-/status']);
    const port = Number(new URL(url).port);
    const socket = connect(port, '127.0.0.1');
    let got = '';
    socket.on('data', (d) => {
      got += d;
      // A client reusing the connection at once, as a balancer's pool does: it must not get a refusal.
      if (got.includes('v1')) socket.write('GET /hello.py HTTP/1.1\r\nHost: a\r\n\r\n');
    });
    const ended = new Promise((resolve) => socket.once('close', resolve));
    socket.write('GET /sleepy.py?s=1.5 HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitFor(
      async () => JSON.parse((await rawRequest(port, 'GET', '/-/status?json')).body.toString()).totals.inflight === 1,
      'the request to run',
      20_000,
    );
    child!.kill('SIGTERM');
    await ended;
    expect(got).toMatch(/^HTTP\/1\.1 200 [\s\S]*\r\nconnection: close\r\n/i);
    expect(got.match(/HTTP\/1\.1/g)).toHaveLength(1); // the reuse found the connection closed, never a 503
    expect(await exited).toBe(0);
  });
});

describe('SIGHUP', () => {
  it('re-reads the config and replaces every worker without failing a request', async () => {
    const { url, root, exited, stderr } = await startCli();
    const pids = new Set<number>();
    const failures: string[] = [];
    const answered = new Set<string>();
    let done = false;
    const load = async (page: string) => {
      const until = Date.now() + 40_000;
      for (let i = 0; i < 20_000 && !done && Date.now() < until; i++) {
        try {
          const res = await fetch(new URL(page, url));
          const text = await res.text();
          if (res.status !== 200) failures.push(`${page}: ${res.status} ${text}`);
          else {
            answered.add(page);
            if (page === 'whoami.py') pids.add(JSON.parse(text).pid);
          }
        } catch (err) {
          failures.push(`${page}: ${(err as Error).message}`);
        }
      }
    };
    const runs = ['whoami.py', 'whoami.py', 'hello.py', 'sleepy.py?s=0.05'].map(load);
    await waitFor(() => answered.size === 3, 'an answer from each page under load', 20_000);
    writeFileSync(join(root, 'pypages.yaml'), 'threads: 4\n');
    const reloads = () => stderr().split('configuration reloaded').length - 1;
    child!.kill('SIGHUP');
    await waitFor(() => reloads() === 1, 'the first reload', 20_000);
    child!.kill('SIGHUP');
    await waitFor(() => reloads() === 2, 'the second reload', 20_000);
    await waitFor(() => pids.size >= 2, 'answers from new workers', 20_000); // the workers were replaced
    done = true;
    await Promise.all(runs);
    expect(failures).toEqual([]);
    child!.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 90_000);
});
