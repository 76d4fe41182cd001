// The supervisor: the process the `pypages` command starts. It owns the
// listening socket and runs the server (this same script, in the server
// role) as a child that listens on it; it never touches a client byte.
// When the server child dies unexpectedly it logs why, kills what is left
// of it (server/leftovers.ts) and starts a new one, while new connections
// wait in the socket's backlog. Signal handlers only record and forward;
// the child's 'exit' decides what happens next.
//
// Child protocol (IPC): the child asks { pypages: 'socket' }; the supervisor
// answers { pypages: 'listen', host, port } with the socket handle; the
// child says { pypages: 'ready' } once it serves, then answers each
// { pypages: 'ping' } with { pypages: 'pong' } from its event loop: a child
// silent for HANG_MS is stuck (a loop that never yields) and is killed and
// replaced like a crashed one. When the IPC channel closes (the supervisor is
// gone, even by SIGKILL) the child stops gracefully.
//
// Started as root, the supervisor names the server-user to its child
// (server/privileges.ts), which starts its root launcher and drops to that
// user before it serves (server/drop.ts); before each start, and before it
// passes on SIGUSR1 or SIGHUP, the supervisor makes the log files the config
// names the server-user's (server/handover.ts).

import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Config } from '../lib/config/config.js';
import { nonBlockingTerminal } from '../lib/util/terminal.js';
import { dropRoot } from './drop.js';
import { killLeftovers } from './leftovers.js';
import type { BoundSocket } from './listen-handle.js';
import { ROOT_KEPT_VARIABLE } from './drop.js';
import { type Privileges, privilegesFor } from './privileges.js';
import { ROLE_VARIABLE, type Running, startServerChild } from './server-child.js';
import { dieOf, onStopSignals } from './signals.js';

/** Exit codes of a child that had not yet said "ready": a config error (2), no usable Python (3), cannot listen (4). Not retried. */
const BOOT_ERRORS = new Set([2, 3, 4]);
const FIRST_DELAY_MS = 100; // restart delay after a crash, doubled after each one...
const MAX_DELAY_MS = 10_000; // ...up to this,
const STABLE_MS = 30_000; // and back to FIRST_DELAY_MS once a child has lived this long.
const CRASH_LIMIT = 5; // this many crashes...
const CRASH_WINDOW_MS = 60_000; // ...within this long: give up (exit 1).
const TAIL_WAIT_MS = 500; // for its last lines to arrive after its exit
const FORWARDED = ['SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const;
const PING_MS = 1000; // heartbeat to a ready child...
const HANG_MS = 10_000; // ...which is killed after this long without an answer

export interface SupervisorOptions {
  socket: BoundSocket;
  /** Host and port as configured, for the child's URL and its reload check. */
  host: string;
  port: number;
  /** The config the supervisor read, and its command line (read again on SIGHUP): the launcher's policy. */
  config: Config;
  argv: readonly string[];
}

/**
 * Runs server children until pypages is asked to stop (SIGINT/SIGTERM:
 * resolves 0), a child fails to boot (resolves with its exit code) or
 * crashes CRASH_LIMIT times within CRASH_WINDOW_MS (resolves 1). A second
 * SIGINT/SIGTERM kills the child at once and the supervisor dies of that
 * signal, as a process without handlers would.
 */
export function supervise(options: SupervisorOptions): Promise<number> {
  delete process.env[ROOT_KEPT_VARIABLE]; // said to the child only when kept now, never from the caller's environment
  const privileges = privilegesFor(options.config);
  if (typeof privileges === 'string') {
    say(privileges);
    options.socket.handle.close();
    return Promise.resolve(2);
  }
  if (privileges && 'keptRoot' in privileges) {
    process.env[ROOT_KEPT_VARIABLE] = privileges.keptRoot; // for the server child's banner
    return new Supervisor(options, null).run();
  }
  return new Supervisor(options, privileges).run();
}

class Supervisor {
  private current: Running | null = null;
  private stopping: NodeJS.Signals | null = null;
  private forced: NodeJS.Signals | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private delayMs = FIRST_DELAY_MS;
  private crashes: number[] = [];
  private generation = 0;
  /** Set once a child has said ready: boot errors are retried from then on. */
  private served = false;
  private socketOpen = true;
  private finish: (code: number) => void = () => {};

  constructor(
    private readonly options: SupervisorOptions,
    private readonly privileges: Privileges | null,
  ) {}

  run(): Promise<number> {
    process.stderr.on('error', () => {}); // a closed log reader must not take the supervisor down
    nonBlockingTerminal(process.stderr); // nor a terminal that stops reading stop the heartbeat
    onStopSignals({ stop: (signal) => this.stop(signal), force: (signal) => this.force(signal) });
    for (const signal of FORWARDED) process.on(signal, () => this.forward(signal));
    this.privileges?.prepare();
    this.start();
    return new Promise((resolve) => (this.finish = resolve));
  }

  private start(): void {
    this.restartTimer = null;
    const instance = `${process.pid}-${++this.generation}-${randomBytes(4).toString('hex')}`;
    try {
      this.current = startServerChild(instance, this.privileges?.serverUser.user ?? null);
    } catch (err) {
      say(`cannot start the server: ${(err as Error).message}`);
      return this.crashed(Date.now(), null);
    }
    this.watch(this.current);
  }

  /** Listens to a child: its messages, its exit (once, even if it never started), its heartbeat. */
  private watch(running: Running): void {
    const { child, tail } = running;
    let ended = false;
    const end = (code: number | null, signal: NodeJS.Signals | null) => {
      if (ended) return;
      ended = true;
      void this.exited(running, code, signal);
    };
    child.on('message', (message: { pypages?: string }) => this.onMessage(running, message));
    child.on('error', (err) => {
      tail.push(`cannot start the server: ${err.message}`);
      if (child.pid === undefined) end(null, null); // never started: no 'exit' will come
    });
    child.once('exit', end);
    const heartbeat = setInterval(() => this.checkPulse(running), PING_MS);
    child.once('exit', () => clearInterval(heartbeat));
  }

  /** A ready child that stopped answering is stuck: it is killed, and its exit restarts it. */
  private checkPulse(running: Running): void {
    if (!running.ready || running.hung || this.stopping) return;
    if (Date.now() - running.lastPong > HANG_MS) {
      running.hung = true;
      say(
        `the server (pid ${running.child.pid}) has not answered for ${HANG_MS / 1000} s: its event loop is stuck; killing it`,
      );
      return signalGroup(running.child, 'SIGKILL');
    }
    if (running.child.connected) running.child.send({ pypages: 'ping' });
  }

  private onMessage(running: Running, message: { pypages?: string }): void {
    if (message?.pypages === 'socket' && this.socketOpen) {
      const { socket, host, port } = this.options;
      running.child.send({ pypages: 'listen', host, port }, socket.handle as never);
    } else if (message?.pypages === 'pong') {
      running.lastPong = Date.now();
    } else if (message?.pypages === 'ready') {
      [running.ready, running.lastPong, this.served] = [true, Date.now(), true];
      if (this.generation > 1) say(`server restarted (pid ${running.child.pid})`);
    }
  }

  private async exited(running: Running, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    this.current = null;
    const pid = running.child.pid;
    const left = pid ? await killLeftovers(pid, running.instance) : { killed: [], survivors: [] };
    if (left.survivors.length) say(`could not kill pids ${left.survivors.join(' ')} (left by the server, pid ${pid})`);
    if (this.stopping) return this.done();
    // A boot error is final on the first start: the config or the machine is wrong. Once a server has
    // served, a restart that fails to boot may be a passing moment (a loaded machine): retried.
    const bootError = !running.ready && code !== null && BOOT_ERRORS.has(code) ? code : null;
    if (bootError !== null && !this.served) return this.done(bootError);
    await Promise.race([running.stderrDone, new Promise((r) => setTimeout(r, TAIL_WAIT_MS))]);
    say(`the server (pid ${pid}) died unexpectedly: ${signal ? `killed by ${signal}` : `exited with code ${code}`}`);
    if (running.tail.length) say(`its last lines on stderr:\n${running.tail.map((l) => `  | ${l}`).join('\n')}`);
    if (left.killed.length)
      say(`killed ${left.killed.length} process(es) it left behind (pids ${left.killed.join(' ')})`);
    if (this.stopping) return this.done();
    this.crashed(running.startedAt, bootError);
  }

  /** Counts the crash; starts a new child after the backoff delay, or gives up: with `bootError` if the last one failed to boot so, else 1. */
  private crashed(startedAt: number, bootError: number | null): void {
    const now = Date.now();
    this.crashes = [...this.crashes.filter((t) => now - t < CRASH_WINDOW_MS), now];
    if (this.crashes.length >= CRASH_LIMIT) {
      say(
        `the server died ${CRASH_LIMIT} times within ${CRASH_WINDOW_MS / 1000} s; giving up. ` +
          'Its last lines on stderr (above) say why; fix the cause, then start pypages again.',
      );
      return this.done(bootError ?? 1);
    }
    if (now - startedAt >= STABLE_MS) this.delayMs = FIRST_DELAY_MS;
    say(`starting a new server in ${this.delayMs / 1000} s`);
    this.restartTimer = setTimeout(() => this.start(), this.delayMs);
    this.delayMs = Math.min(this.delayMs * 2, MAX_DELAY_MS);
  }

  /** SIGINT/SIGTERM: passed on once, for a graceful stop (server/signals.ts says which signals are one). */
  private stop(signal: NodeJS.Signals): void {
    this.stopping = signal;
    this.closeSocket(); // once the child closes its copy, new connections are refused, not left waiting
    if (this.restartTimer) {
      clearTimeout(this.restartTimer);
      this.done();
    } else if (this.current) {
      this.current.child.kill(signal);
    }
  }

  /** A second stop signal, a moment after the first: kills everything now. */
  private force(signal: NodeJS.Signals): void {
    say(`${signal} again: stopping at once`);
    this.forced = signal;
    if (this.current) signalGroup(this.current.child, 'SIGKILL'); // its exit ends the supervisor (exited())
  }

  /** Only to a child that has said "ready": before that, its handlers are not in place and the signal would kill it. */
  private forward(signal: NodeJS.Signals): void {
    if (signal === 'SIGHUP') this.privileges?.reread(this.options.argv);
    if (signal !== 'SIGUSR2') this.privileges?.prepare(); // log files logrotate (or a new config) made become the server-user's
    if (this.current?.ready) this.current.child.kill(signal);
    else say(`${signal} not passed on: the server is starting (and reads the configuration as it does)`);
  }

  private closeSocket(): void {
    if (this.socketOpen) this.options.socket.handle.close();
    this.socketOpen = false;
  }

  private done(code = 0): void {
    this.closeSocket();
    if (this.forced) return dieOf(this.forced);
    this.finish(code);
  }
}

function say(message: string): void {
  process.stderr.write(`pypages: ${message}\n`);
}

/** Signals the child's whole process group (never group 0: that would be our own). */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (!child.pid) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

/** What the server child gets from its supervisor. */
export interface SupervisedSocket {
  handle: object;
  host: string;
  port: number;
}

/**
 * In the server role: the socket the supervisor holds, or null when this
 * process was not started by a supervisor. The child asks only once its
 * listener is in place (a message arriving earlier would be lost). Rejects
 * if the supervisor goes away first.
 */
export function socketFromSupervisor(): Promise<SupervisedSocket> | null {
  if (process.env[ROLE_VARIABLE] !== '1' || !process.send) return null;
  delete process.env[ROLE_VARIABLE]; // not for the Python workers, nor a pypages a page might start
  return dropRoot(process.argv.slice(2)).then(askForSocket);
}

function askForSocket(): Promise<SupervisedSocket> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { pypages?: string; host: string; port: number }, handle: unknown) => {
      if (message?.pypages !== 'listen' || !handle) return;
      process.off('message', onMessage).off('disconnect', onGone);
      resolve({ handle: handle as object, host: message.host, port: message.port });
    };
    const onGone = () => reject(new Error('the supervisor went away before handing over the listening socket'));
    process.on('message', onMessage).once('disconnect', onGone);
    process.send!({ pypages: 'socket' });
  });
}

/** In the server role: tells the supervisor this server serves; `onGone` runs once when the supervisor is gone (even killed by SIGKILL). */
export function reportReady(onGone: () => void): void {
  if (!process.connected) return onGone();
  process.once('disconnect', onGone);
  process.on('message', (message: { pypages?: string }) => {
    if (message?.pypages === 'ping' && process.connected) process.send!({ pypages: 'pong' });
  });
  process.send!({ pypages: 'ready' });
}
