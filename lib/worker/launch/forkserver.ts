// Worker processes forked from a warm Python parent (the "zygote",
// lib/python/pypages_worker/forkserver/) instead of spawned afresh: the
// runtime and the shared-preload modules are imported once, a new worker
// starts in milliseconds, and their memory is shared copy-on-write.
//
// Channels (spec: ./forkserver-protocol.md; its bytes: ./control.ts). The
// zygote is spawned like a worker, with a control pipe each way on its fds
// 3/4, one JSON object per line: "fork" and "ping" commands in; "ready",
// "forked", "fork-failed", "pong" and "exit" events out. Node listens on a
// Unix socket in a private 0700 temp folder (./fork-folders.ts); each forked
// child connects to it three times, first writing a one-time token and a
// letter: F = its frame stream (fds 3 and 4; a socket carries both
// directions), O = its stdout, E = its stderr. The token says which launch a connection belongs to;
// the folder's mode says who may connect at all.
//
// Liveness. Node pings the zygote every PING_MS; one that has said nothing
// at all (no pong, no other event) for MISSED_PINGS more ticks (frozen by
// SIGSTOP, stuck) has its Python stack dumped, is killed and declared
// dead at once: its pending launches fail (forkingLauncher spawns them), and
// ./fork-launcher.ts starts a new one. Pings are counted in timer ticks,
// not measured in time: a Node that was itself stalled reads the answer
// before its next tick. Any event counts as a sign of life: a ping waits in
// the pipe behind the fork commands sent before it, and a zygote working
// through a burst of them answers late but is not stuck.
//
// Exits. While the zygote lives it reaps its children and reports each one's
// real code or signal; once it is gone, its children live on as orphans and
// their ends are noticed by pid (./forked-process.ts).

import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:net';
import { onByteLines } from '../../util/lines.js';
import type { Logger } from '../../util/log.js';
import { ControlError, decodeEvent, encodeCommand, MAX_EVENT_LINE, type Command } from './control.js';
import { removeStaleForkFoldersOnce } from './fork-folders.js';
import { MARK_PLACEHOLDER, WORKER_VARIABLE } from './page-leftovers.js';
import { ForkLaunches } from './fork-launches.js';
import type { ForkedProcess } from './forked-process.js';
import { pipeLines, workerArgs, type Launcher } from './spawn.js';
import type { RunAs } from '../../tenant/identity.js';
import type { TenantCaps } from '../../tenant/cgroups.js';
import { rootSide, type ForkSocket, type PythonProcess } from '../../tenant/root-side.js';
import { startPython } from './start-python.js';

const START_TIMEOUT_MS = 30_000; // the zygote imports the shared-preload modules (a big framework on a cold disk)
const OUTPUT_LINGER_MS = 20; // as spawnWorkerProcess: the last printed lines arrive before 'exit'
const CLOSE_TIMEOUT_MS = 2_000;
export const PING_MS = 500;
const STACK_DUMP_MS = 300; // for its stack to reach the log before the kill
export const MISSED_PINGS = 3; // so a frozen zygote is declared dead 1.5-2 s after it froze

/** The zygote's process, and its socket's folder (bound by the launcher when this server gave up root). */
function startZygote(opts: ForkServerOptions) {
  const args = ['-u', '-m', 'pypages_worker.forkserver'];
  for (const m of opts.sharedPreload) args.push('--preload', m);
  const { python, runAs = null, cgroup, tenant } = opts;
  const env = { [WORKER_VARIABLE]: MARK_PLACEHOLDER };
  return startPython({ python, args, cwd: '/', env, runAs, cgroup, tenant, fork: true });
}

/** What a fork server is started with. */
export interface ForkServerOptions {
  python: string; // interpreter path: the zygote and all its children run it
  sharedPreload: readonly string[]; // modules the zygote imports once, shared by every child
  log: Logger;
  runAs?: RunAs | null; // the user the zygote and its children run as; null: the server's own
  cgroup?: readonly string[]; // the tenant's cgroup.procs files: the zygote enters them, its children are born in them
  tenant?: { name: string; caps: TenantCaps }; // its tenant, whose cgroups the root launcher makes (lib/tenant/root-side.ts)
}

/**
 * One warm Python parent for one interpreter, and the launches it forks.
 * Emits 'exit' (why) once, when its zygote is gone after it was ready (it
 * died, was declared dead, or close() stopped it).
 */
export class ForkServer extends EventEmitter {
  private readonly launches = new ForkLaunches();
  private readonly children = new Map<number, ForkedProcess>();
  private readonly tail: string[] = [];
  private running = true;
  private booted = false;
  private ready!: (err: Error | null) => void;
  private pinger: NodeJS.Timeout | null = null;
  private pings = 0;
  private unanswered: { id: number; ticks: number } | null = null;

  private constructor(
    private readonly zygote: PythonProcess,
    private readonly listener: Server,
    private readonly socket: ForkSocket,
    private readonly opts: ForkServerOptions,
  ) {
    super();
  }

  /**
   * Spawns the zygote and resolves once it has imported everything; rejects
   * with the reason (and its output). The first in this process first
   * removes the folders that fork servers of dead pypages left behind.
   */
  static async start(opts: ForkServerOptions): Promise<ForkServer> {
    if (!rootSide()) removeStaleForkFoldersOnce(opts.log); // else the launcher's, made and swept by it
    const { proc: zygote, socket } = await startZygote(opts);
    const listener = createServer();
    const server = new ForkServer(zygote, listener, socket!, opts);
    const booted = server.boot(); // its listeners now: a zygote that cannot start says so at once
    booted.catch(() => {}); // awaited below; meanwhile its failure is not unhandled
    try {
      await socket!.listen(listener);
      listener.on('error', (err) => opts.log.error(`fork server socket ${socket!.path}: ${err.message}`));
    } catch (err) {
      if (!server.alive) await booted; // it failed first (the listener was closed with it): its reason
      zygote.kill('SIGKILL');
      server.shutDown();
      throw new Error(`cannot listen on ${socket!.path}: ${(err as Error).message}`);
    }
    await booted;
    return server;
  }

  /** The zygote's pid. */
  get pid(): number {
    return this.zygote.pid ?? -1;
  }

  /** False once the zygote has exited or was declared dead: launches then reject, and forkingLauncher spawns instead. */
  get alive(): boolean {
    return this.running;
  }

  /** Forks a worker: same LaunchOptions semantics as spawnWorkerProcess. Rejects if the fork or its connections fail. */
  readonly launch: Launcher = async (opts) => {
    if (!this.running) throw new Error(`the fork server for ${this.opts.python} is not running`);
    if (opts.python !== this.opts.python || opts.runAs?.uid !== this.opts.runAs?.uid)
      throw new Error(`this fork server runs ${this.opts.python} as another user`);
    const { token, child } = this.launches.begin(opts);
    try {
      this.send({ cmd: 'fork', token, cwd: opts.cwd, env: opts.env, argv: workerArgs(opts) });
    } catch (err) {
      this.launches.fail(token, (err as Error).message);
    }
    return child;
  };

  /** Stops the zygote (children already forked keep running, their ends then noticed by pid: code null) and removes the socket. Call after the workers are stopped. */
  async close(): Promise<void> {
    this.stopPinging();
    if (this.zygote.exitCode === null && this.zygote.signalCode === null && this.zygote.pid !== undefined) {
      const exited = new Promise((r) => this.zygote.once('exit', r));
      this.zygote.input.end(); // end of its fd 3: the zygote exits
      const timer = setTimeout(() => this.zygote.kill('SIGKILL'), CLOSE_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    this.onZygoteExit('was stopped'); // its children are orphans from now on
  }

  /** Wires the zygote's channels and waits for its 'ready' event. */
  private boot(): Promise<void> {
    const { zygote } = this;
    const started = this.whenReady();
    const print = (line: string) => this.opts.log.error(`[forkserver ${this.opts.python} pid ${this.pid}] ${line}`);
    pipeLines(zygote.stdout, this.tail, print);
    pipeLines(zygote.stderr, this.tail, print);
    zygote.input.on('error', () => {}); // EPIPE once it is gone: 'exit' tells
    const tooLong = (bytes: number) => this.rejected(`an event line over ${MAX_EVENT_LINE} bytes (${bytes} so far)`);
    onByteLines(zygote.output, MAX_EVENT_LINE, (line) => line.length > 0 && this.onEvent(line), tooLong);
    this.listener.on('connection', (socket) => this.launches.connection(socket));
    zygote.once('error', (err) => this.onZygoteExit(`cannot start ${this.opts.python}: ${err.message}`));
    // After a pause: its last output lines and events arrive first.
    zygote.once('exit', (code, signal) =>
      setTimeout(() => this.onZygoteExit(`exited ${signal ? `on ${signal}` : `with code ${code}`}`), OUTPUT_LINGER_MS),
    );
    return started;
  }

  /** Settled by the zygote's 'ready' event, its exit, or the start timeout: whichever comes first. */
  private whenReady(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => this.ready(new Error(`the fork server did not start within ${START_TIMEOUT_MS / 1000} s`)),
        START_TIMEOUT_MS,
      );
      this.ready = (err) => {
        clearTimeout(timer);
        this.ready = () => {};
        if (err) {
          this.zygote.kill('SIGKILL');
          this.shutDown();
          return reject(err);
        }
        this.booted = true;
        this.pinger = setInterval(() => this.tick(), PING_MS).unref();
        resolve();
      };
    });
  }

  /** Writes a command to the zygote; throws ControlError (nothing written) for one that breaks the spec. */
  private send(command: Command): void {
    this.zygote.input.write(encodeCommand(command));
  }

  /** One event line (its bytes); a line that is not an event of the spec is logged and skipped. */
  private onEvent(line: Buffer): void {
    let e: ReturnType<typeof decodeEvent>;
    try {
      e = decodeEvent(line);
    } catch (err) {
      if (!(err instanceof ControlError)) throw err;
      return this.rejected(`${err.message}: ${JSON.stringify(line.toString('latin1', 0, 80))}`);
    }
    if (this.unanswered) this.unanswered.ticks = 0; // it is working: see "Liveness" above
    if (e.event === 'ready')
      this.ready(null); // a failed shared-preload import was logged by the zygote itself
    else if (e.event === 'pong') this.onPong(e.id);
    else if (e.event === 'forked') this.onForked(e.token, e.pid, e.start);
    else if (e.event === 'fork-failed') this.launches.fail(e.token, `fork failed: ${e.error}`);
    else if (e.event === 'exit') this.onChildExit(e.pid, e.code, e.signal);
  }

  /** One timer tick: send a ping, or count one more tick without its answer. */
  private tick(): void {
    if (!this.unanswered) {
      this.unanswered = { id: ++this.pings, ticks: 0 };
      return this.send({ cmd: 'ping', id: this.pings });
    }
    if (++this.unanswered.ticks < MISSED_PINGS) return;
    const why = `did not answer a ping for ${(MISSED_PINGS * PING_MS) / 1000} s`;
    this.opts.log.error(
      `[forkserver ${this.opts.python} pid ${this.pid}] ${why}: its Python stack follows, then it is killed`,
    );
    this.zygote.kill('SIGUSR1'); // faulthandler: where it was stuck, unless it is stopped
    setTimeout(() => this.zygote.kill('SIGKILL'), STACK_DUMP_MS).unref(); // our own unreaped child: its pid is still its own
    this.onZygoteExit(why); // now, not at its exit: a process in uninterruptible sleep may take long to die
  }

  private rejected(why: string): void {
    this.opts.log.error(`[forkserver pid ${this.pid}] unreadable event: ${why}`);
  }

  private onPong(id: number): void {
    if (this.unanswered?.id === id) this.unanswered = null;
  }

  private stopPinging(): void {
    if (this.pinger) clearInterval(this.pinger);
    this.pinger = null;
  }

  private onForked(token: string, pid: number, start: number | null): void {
    // The zygote runs as the tenant, whose page can write events in its name: the pid is trusted only as the tenant's.
    // A server child that gave up root names the uid too: the launcher signals a process only by its uid.
    const uid = this.opts.runAs?.uid ?? (rootSide() ? 0 : undefined);
    const proc = this.launches.forked(token, uid === undefined ? { pid, start } : { pid, start, uid });
    if (proc) this.children.set(pid, proc);
  }

  private onChildExit(pid: number, code: number | null, signal: NodeJS.Signals | null): void {
    const proc = this.children.get(pid);
    if (!proc) return;
    this.children.delete(pid);
    proc.exited(code, signal);
    this.launches.exited(proc, signal ? `was killed by ${signal}` : `exited with code ${code}`);
  }

  private onZygoteExit(how: string): void {
    if (!this.running) return;
    this.running = false;
    const why = `the fork server for ${this.opts.python} (pid ${this.pid}) ${how}`;
    this.ready(new Error(`${why}${this.tail.length ? `:\n${this.tail.join('\n')}` : ''}`)); // before boot: start() rejects
    this.launches.failAll(why);
    for (const proc of this.children.values()) proc.orphaned();
    this.children.clear();
    this.shutDown();
    if (this.booted) this.emit('exit', how);
  }

  private shutDown(): void {
    this.running = false;
    this.stopPinging();
    if (this.listener.listening) this.listener.close();
    this.socket.remove();
  }
}
