// The pypages command is a supervisor: it owns the listening socket and runs
// the server as a child. These tests kill and crash that child for real and
// check that the site comes back, that connections made meanwhile are
// answered, and that nothing of a dead server survives.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPEAT_MS } from '../../server/signals.js';
import { AS_RUNNER_ARGS, FIXTURES, rawRequest, removeDir, stopChild, tempDir, waitFor } from '../helpers.js';

const CLI = new URL('../../dist/server/cli.js', import.meta.url).pathname;
const OWN_FIXTURES = new URL('../fixtures/supervisor/', import.meta.url).pathname;
const CRASH_HOOK = join(OWN_FIXTURES, 'crash-hook.mjs');

let cli: ChildProcess | null = null;
let root: string | undefined;
afterEach(async () => {
  const supervisor = cli?.pid;
  await stopChild(cli);
  cli = null;
  // A test that failed may have left processes of its server: they are ours to end.
  if (supervisor) for (const pid of processesOf(supervisor)) process.kill(pid, 'SIGKILL');
  removeDir(root);
  root = undefined;
});

interface Cli {
  proc: ChildProcess;
  port: number;
  url: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  /** How many times a server child has announced its URL. */
  banners: () => number;
}

/** Starts the compiled CLI (the supervisor) on a copy of the fixtures plus detach.py; resolves once it serves. */
async function startCli(
  args: string[] = [],
  options: { env?: Record<string, string>; execArgv?: string[]; detached?: boolean } = {},
): Promise<Cli> {
  root = tempDir('pypages-sup-');
  cpSync(FIXTURES, root, { recursive: true });
  copyFileSync(join(OWN_FIXTURES, 'detach.py'), join(root, 'detach.py'));
  const proc = spawn(
    process.execPath,
    [...(options.execArgv ?? []), CLI, root, '--port', '0', ...AS_RUNNER_ARGS, ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: root,
      env: { ...process.env, ...options.env },
      detached: options.detached, // a process group of its own, as a shell gives a command it runs
    },
  );
  cli = proc;
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) =>
    proc.once('exit', (code, signal) => r(code ?? (signal ? -1 : null))),
  );
  const url = await Promise.race([
    waitFor(() => /serving \S+ at (http:\/\/\S+\/)/.exec(out)?.[1], 'the URL', 30_000),
    exited.then((code) => Promise.reject(new Error(`exited with ${code}: ${err}`))),
  ]);
  const banners = () => out.match(/pypages: serving /g)?.length ?? 0;
  return { proc, port: Number(new URL(url).port), url, stdout: () => out, stderr: () => err, exited, banners };
}

/** /proc/PID/stat: state and parent, or null once it is gone. */
function stat(pid: number): { state: string; ppid: number; session: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], ppid: Number(fields[1]), session: Number(fields[3]) };
  } catch {
    return null;
  }
}

/** Running (a zombie is dead: it holds nothing but its pid until reaped). */
function alive(pid: number): boolean {
  const s = stat(pid);
  return s !== null && s.state !== 'Z' && s.state !== 'X';
}

function livePids(): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter(alive);
}

/** Every live process below `pid`, by parent links. */
function descendants(pid: number): number[] {
  const parent = new Map(livePids().map((p) => [p, stat(p)?.ppid ?? 0]));
  const below = (p: number): boolean => parent.has(p) && (parent.get(p) === pid || below(parent.get(p)!));
  return [...parent.keys()].filter(below);
}

function environ(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
  } catch {
    return [];
  }
}

/** Live processes whose environment names a server child of this supervisor (PYPAGES_INSTANCE=<supervisor pid>-...): any that left the process tree too. */
function processesOf(supervisorPid: number, instance = `${supervisorPid}-`): number[] {
  return livePids().filter((p) => environ(p).some((v) => v.startsWith(`PYPAGES_INSTANCE=${instance}`)));
}

/** The supervisor's server child (the one alive), once there is one. */
function serverChild(supervisorPid: number): Promise<number> {
  return waitFor(() => livePids().find((p) => stat(p)?.ppid === supervisorPid), 'the server child', 30_000);
}

/** Opens a connection and sends one GET; `connected` resolves when the kernel accepted the connection (in the backlog). */
function openRequest(port: number, path: string): { connected: Promise<void>; response: Promise<string> } {
  const socket = connect(port, '127.0.0.1');
  const connected = new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const response = (async () => {
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    const chunks: Buffer[] = [];
    for await (const chunk of socket) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('latin1');
  })();
  response.catch(() => {}); // awaited by the test; a failure before that is not unhandled
  return { connected, response };
}

/** Resolves once a request is running in a worker (the status page says so). */
async function runningInWorker(port: number): Promise<void> {
  await waitFor(
    async () => {
      const res = await rawRequest(port, 'GET', '/-/status?json');
      return JSON.parse(res.body.toString()).totals.inflight >= 1;
    },
    'a request running in a worker',
    20_000,
  );
}

describe('supervisor: the server child is killed', () => {
  it('SIGKILL under load: restarted, connections made meanwhile answered, nothing of the dead server left', async () => {
    const s = await startCli();
    const first = await serverChild(s.proc.pid!);
    const instance = environ(first)
      .find((v) => v.startsWith('PYPAGES_INSTANCE='))!
      .split('=')[1];
    expect(instance).toMatch(new RegExp(`^${s.proc.pid}-`));
    // A small bounded load; requests that start after the child is dead must all succeed.
    let deadAt = Infinity;
    let stop = false;
    const lateFailures: string[] = [];
    const load = async () => {
      const until = Date.now() + 20_000;
      for (let i = 0; i < 400 && !stop && Date.now() < until; i++) {
        const startedAt = Date.now();
        try {
          const res = await rawRequest(s.port, 'GET', i % 2 ? '/hello.py' : '/sleepy.py?s=0.05');
          if (res.status !== 200 && startedAt > deadAt) lateFailures.push(`status ${res.status}`);
        } catch (err) {
          if (startedAt > deadAt) lateFailures.push((err as Error).message);
        }
      }
    };
    const loads = [load(), load(), load()];
    await waitFor(async () => (await rawRequest(s.port, 'GET', '/whoami.py')).status === 200, 'a warm worker', 20_000);
    const before = descendants(first);
    expect(before.length).toBeGreaterThanOrEqual(2); // a fork server and workers

    process.kill(first, 'SIGKILL');
    await waitFor(() => !alive(first), 'the child to die');
    deadAt = Date.now();
    const during = Array.from({ length: 5 }, () => openRequest(s.port, '/hello.py'));
    await Promise.all(during.map((r) => r.connected));
    expect(s.banners()).toBe(1); // accepted by the kernel before the new server was up

    for (const r of during) expect(await r.response).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nHello, World!$/);
    await waitFor(() => s.banners() === 2, 'the new server', 30_000);
    stop = true;
    await Promise.all(loads);
    expect(lateFailures).toEqual([]);
    expect(s.stderr()).toContain(`the server (pid ${first}) died unexpectedly: killed by SIGKILL`);
    expect(before.filter(alive)).toEqual([]);
    expect(processesOf(s.proc.pid!, instance)).toEqual([]);
    expect(await serverChild(s.proc.pid!)).not.toBe(first);
    expect((await rawRequest(s.port, 'GET', '/hello.py')).status).toBe(200);
  }, 60_000);

  it("kills a daemon a page started with setsid, outside the server's process group", async () => {
    const s = await startCli();
    const first = await serverChild(s.proc.pid!);
    const res = await rawRequest(s.port, 'GET', '/detach.py');
    const daemon = Number(res.body.toString());
    await waitFor(() => stat(daemon)?.session === daemon, 'the daemon to be in a session of its own', 10_000);
    expect(stat(daemon)!.session).not.toBe(first); // out of reach of a kill of the server's process group
    process.kill(first, 'SIGKILL');
    await waitFor(() => s.banners() === 2, 'the new server', 30_000);
    expect(alive(daemon)).toBe(false);
    expect(s.stderr()).toMatch(new RegExp(`killed \\d+ process\\(es\\) it left behind \\(pids [\\d ]*\\b${daemon}\\b`));
  }, 60_000);

  it('a real crash (uncaught exception): restarted, its last stderr lines in the log', async () => {
    const s = await startCli([], { execArgv: ['--import', CRASH_HOOK], env: { PYPAGES_TEST_CRASH: 'usr2' } });
    const first = await serverChild(s.proc.pid!);
    expect((await rawRequest(s.port, 'GET', '/hello.py')).status).toBe(200);
    s.proc.kill('SIGUSR2'); // forwarded to the child, whose preload throws
    await waitFor(() => s.banners() === 2, 'the new server', 30_000);
    const log = s.stderr();
    expect(log).toContain(`the server (pid ${first}) died unexpectedly: exited with code 1`);
    expect(log).toMatch(
      /its last lines on stderr:\n( {2}\| .*\n)* {2}\| .*crash-hook: about to throw\n( {2}\| .*\n)* {2}\| Error: provoked crash on SIGUSR2/,
    );
    expect(log).toContain('starting a new server in 0.1 s');
    expect((await rawRequest(s.port, 'GET', '/hello.py')).status).toBe(200);
  }, 60_000);

  it('a server whose event loop is stuck: killed after 10 s of silence and replaced', async () => {
    const s = await startCli([], { execArgv: ['--import', CRASH_HOOK], env: { PYPAGES_TEST_CRASH: 'hang' } });
    const first = await serverChild(s.proc.pid!);
    expect((await rawRequest(s.port, 'GET', '/hello.py')).status).toBe(200);
    s.proc.kill('SIGUSR2'); // forwarded to the child, whose preload then never yields
    await waitFor(() => s.banners() === 2, 'the new server', 40_000);
    expect(s.stderr()).toContain(
      `the server (pid ${first}) has not answered for 10 s: its event loop is stuck; killing it`,
    );
    expect(s.stderr()).toContain(`the server (pid ${first}) died unexpectedly: killed by SIGKILL`);
    expect(alive(first)).toBe(false);
    expect((await rawRequest(s.port, 'GET', '/hello.py')).status).toBe(200);
  }, 60_000);

  it('gives up after the crash-loop limit, exiting 1 with a message that says what to do', async () => {
    root = tempDir('pypages-sup-');
    copyFileSync(join(FIXTURES, 'hello.py'), join(root, 'hello.py'));
    const startedAt = Date.now();
    const proc = spawn(process.execPath, ['--import', CRASH_HOOK, CLI, root, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYPAGES_TEST_CRASH: 'start' },
    });
    cli = proc;
    let err = '';
    proc.stderr!.on('data', (d) => (err += d));
    const code = await new Promise((r) => proc.once('exit', r));
    expect(code).toBe(1);
    expect(Date.now() - startedAt).toBeLessThan(45_000);
    expect(err.match(/died unexpectedly: exited with code 1/g)).toHaveLength(5);
    expect(err).toContain('provoked crash at start');
    expect(err).toMatch(/the server died 5 times within 60 s; giving up\. .*fix the cause, then start pypages again/);
    expect(processesOf(proc.pid!)).toEqual([]);
  }, 60_000);
});

describe('supervisor: boot errors', () => {
  it('a config made bad before a restart: retried as a crash, then exit 2 with its message', async () => {
    const s = await startCli();
    const first = await serverChild(s.proc.pid!);
    writeFileSync(join(root!, 'pypages.yaml'), 'prot: 80\n');
    process.kill(first, 'SIGKILL');
    expect(await s.exited).toBe(2);
    expect(s.stderr()).toContain('pypages.yaml: unknown key "prot"');
    expect(s.stderr().match(/died unexpectedly: exited with code 2/g)).toHaveLength(4);
    expect(s.stderr()).toMatch(/the server died 5 times within 60 s; giving up/);
  }, 60_000);

  it('a restart whose Python check fails for a moment (exit 3) is retried, and serves once it passes', async () => {
    const wrapperDir = tempDir('pypages-python-');
    const flag = join(wrapperDir, 'failing');
    const wrapper = join(wrapperDir, 'python3');
    const real = execFileSync('python3', ['-c', 'import sys; print(sys.executable)']).toString().trim();
    // Fails only the version check (python -c ...), only while the flag exists: a loaded moment.
    writeFileSync(wrapper, `#!/bin/sh\nif [ "$1" = "-c" ] && [ -e ${flag} ]; then exit 1; fi\nexec ${real} "$@"\n`);
    chmodSync(wrapper, 0o755);
    try {
      const s = await startCli(['--python', wrapper]);
      expect((await rawRequest(s.port, 'GET', '/hello.py')).status).toBe(200);
      writeFileSync(flag, '');
      process.kill(await serverChild(s.proc.pid!), 'SIGKILL');
      await waitFor(() => s.stderr().includes('died unexpectedly: exited with code 3'), 'a failed restart', 30_000);
      rmSync(flag);
      await waitFor(() => s.banners() === 2, 'a restart that serves', 40_000);
      expect((await rawRequest(s.port, 'GET', '/hello.py')).status).toBe(200);
      expect(s.proc.exitCode).toBe(null);
    } finally {
      removeDir(wrapperDir);
    }
  }, 90_000);

  it('no usable Python: exit 3 from the first child, not restarted', async () => {
    root = tempDir('pypages-sup-');
    const proc = spawn(
      process.execPath,
      [CLI, root, '--port', '0', ...AS_RUNNER_ARGS, '--python', '/nonexistent/python3'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    cli = proc;
    let err = '';
    proc.stderr!.on('data', (d) => (err += d));
    expect(await new Promise((r) => proc.once('exit', r))).toBe(3);
    expect(err).toContain('--python');
    expect(err).not.toContain('died unexpectedly');
  });

  it('the port in use: exit 4 from the supervisor, before any child', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer().listen(0, '127.0.0.1');
    try {
      await new Promise((r) => blocker.once('listening', r));
      const port = (blocker.address() as { port: number }).port;
      root = tempDir('pypages-sup-');
      const proc = spawn(process.execPath, [CLI, root, '--port', String(port), ...AS_RUNNER_ARGS], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      cli = proc;
      let err = '';
      proc.stderr!.on('data', (d) => (err += d));
      expect(await new Promise((r) => proc.once('exit', r))).toBe(4);
      expect(err).toContain(`127.0.0.1:${port} is already in use`);
      expect(err).not.toContain('Python'); // no server child was started
    } finally {
      blocker.close();
    }
  });
});

describe('supervisor: signals', () => {
  it('SIGTERM: the request in flight completes, exit 0, no Python process left', async () => {
    const s = await startCli(['--status-path', '/-/status']);
    const slow = rawRequest(s.port, 'GET', '/sleepy.py?s=1');
    await runningInWorker(s.port);
    s.proc.kill('SIGTERM');
    const res = await slow;
    expect([res.status, res.body.toString()]).toEqual([200, 'v1']);
    expect(await s.exited).toBe(0);
    expect(processesOf(s.proc.pid!)).toEqual([]);
  }, 60_000);

  it('SIGTERM to every process at once (systemd KillMode=control-group): a graceful stop all the same', async () => {
    const s = await startCli(['--status-path', '/-/status']);
    const server = await serverChild(s.proc.pid!);
    const slow = rawRequest(s.port, 'GET', '/sleepy.py?s=1');
    await runningInWorker(s.port);
    const everyone = [s.proc.pid!, ...descendants(s.proc.pid!)];
    expect(everyone).toContain(server);
    expect(everyone.length).toBeGreaterThanOrEqual(3); // the supervisor, the server and its Python processes
    for (const pid of everyone) process.kill(pid, 'SIGTERM');
    const res = await slow;
    expect([res.status, res.body.toString()]).toEqual([200, 'v1']);
    expect(await s.exited).toBe(0);
    expect(processesOf(s.proc.pid!)).toEqual([]);
  }, 60_000);

  it("one Ctrl-C (SIGINT to the terminal's process group), and the copy npm passes on: a graceful stop", async () => {
    const s = await startCli(['--status-path', '/-/status'], { detached: true });
    const server = await serverChild(s.proc.pid!);
    expect(stat(server)!.session).not.toBe(stat(s.proc.pid!)!.session); // out of the terminal's reach
    const slow = rawRequest(s.port, 'GET', '/sleepy.py?s=1');
    await runningInWorker(s.port);
    process.kill(-s.proc.pid!, 'SIGINT'); // what the terminal does: the whole foreground process group
    s.proc.kill('SIGINT'); // what `npm start` adds: it passes the signal on to its child
    const res = await slow;
    expect([res.status, res.body.toString()]).toEqual([200, 'v1']);
    expect(await s.exited).toBe(0);
    expect(s.stderr()).not.toContain('stopping at once');
  }, 60_000);

  it('a second SIGINT, a moment later, stops everything at once', async () => {
    const s = await startCli(['--status-path', '/-/status']);
    const slow = rawRequest(s.port, 'GET', '/sleepy.py?s=30');
    slow.catch(() => {});
    await runningInWorker(s.port);
    const at = Date.now();
    s.proc.kill('SIGINT');
    await waitFor(
      () => /SIGINT: finishing 1 request .*press Ctrl-C again to stop now/.test(s.stderr()),
      'the graceful stop',
      10_000,
    );
    await new Promise((r) => setTimeout(r, REPEAT_MS)); // a sleep on purpose: a copy of the first would come sooner
    s.proc.kill('SIGINT');
    await s.exited;
    expect(s.proc.signalCode).toBe('SIGINT');
    expect(Date.now() - at).toBeLessThan(15_000);
    expect(processesOf(s.proc.pid!)).toEqual([]);
  }, 60_000);

  it('SIGHUP reaches the server: config re-read and workers replaced, same server process', async () => {
    const s = await startCli();
    const server = await serverChild(s.proc.pid!);
    const pidBefore = JSON.parse((await rawRequest(s.port, 'GET', '/whoami.py')).body.toString()).pid;
    writeFileSync(join(root!, 'pypages.yaml'), 'threads: 4\n');
    s.proc.kill('SIGHUP');
    await waitFor(() => s.stderr().includes('configuration reloaded'), 'the reload', 20_000);
    const pidAfter = JSON.parse((await rawRequest(s.port, 'GET', '/whoami.py')).body.toString()).pid;
    expect(pidAfter).not.toBe(pidBefore);
    expect(await serverChild(s.proc.pid!)).toBe(server);
    expect(s.stderr()).not.toContain('died unexpectedly');
  }, 60_000);

  it('a burst of SIGHUPs: reloads one at a time, at most one after the running one; the server lives on', async () => {
    const s = await startCli();
    const server = await serverChild(s.proc.pid!);
    expect((await rawRequest(s.port, 'GET', '/hello.py')).status).toBe(200);
    for (let i = 0; i < 40; i++) s.proc.kill('SIGHUP');
    await waitFor(() => s.stderr().includes('configuration reloaded'), 'a reload', 30_000);
    await new Promise((r) => setTimeout(r, 3000)); // a sleep on purpose: reloads beyond the second would come meanwhile
    expect(s.stderr().match(/re-reading the configuration/g)!.length).toBeLessThanOrEqual(2);
    expect((await rawRequest(s.port, 'GET', '/hello.py')).status).toBe(200);
    expect(await serverChild(s.proc.pid!)).toBe(server);
    expect(s.stderr()).not.toContain('died unexpectedly');
  }, 60_000);

  it('PYPAGES_NO_SUPERVISOR=1: one process serves, with the workers as its own children', async () => {
    const s = await startCli([], { env: { PYPAGES_NO_SUPERVISOR: '1' } });
    expect((await rawRequest(s.port, 'GET', '/hello.py')).status).toBe(200);
    const children = livePids().filter((p) => stat(p)?.ppid === s.proc.pid);
    expect(children.length).toBeGreaterThan(0);
    for (const pid of children) expect(readFileSync(`/proc/${pid}/cmdline`, 'latin1')).toContain('pypages_worker');
    s.proc.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  }, 60_000);

  it('the supervisor killed with SIGKILL: the server stops by itself, nothing left', async () => {
    const s = await startCli();
    const server = await serverChild(s.proc.pid!);
    expect((await rawRequest(s.port, 'GET', '/hello.py')).status).toBe(200);
    const ours = processesOf(s.proc.pid!);
    expect(ours).toContain(server);
    s.proc.kill('SIGKILL');
    await waitFor(() => ours.every((p) => !alive(p)), 'the server and its workers to stop', 30_000);
    await expect(rawRequest(s.port, 'GET', '/hello.py')).rejects.toThrow(/ECONNREFUSED/);
  }, 60_000);
});
