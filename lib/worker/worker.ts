// One Python worker process seen from Node: spawn, handshake, multiplexed
// requests over the frame pipes, and what happens when the process dies.
// It knows nothing of groups or Koa: it is given a request and a response.

import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { Exchange, type Job } from './exchange.js';
import type { Outcome } from './outcome.js';
import type { Logger } from '../util/log.js';
import {
  EMPTY,
  encodeFrame,
  type FrameDecoder,
  FromWorker,
  jsonPayload,
  ProtocolError,
  ToWorker,
  type Frame,
} from './protocol.js';
import type { WorkerProcess } from './launch/spawn.js';
import { handshake, type Ready } from './handshake.js';
import { WatchBudget, type WatchedFile } from './watch-list.js';

export type { WatchedFile } from './watch-list.js';

export interface WorkerOptions {
  tag: string; // how it is named in the error log
  log: Logger;
}

const STOP_GRACE_MS = 5_000;
const STACK_DUMP_MS = 300;
const PAGE_SIZE = 4096;
const SEPARATE_PAYLOAD = 16 * 1024;

/**
 * A running worker. Events: 'exit' (code, signal) once the process is gone;
 * 'watch' when it reports the document-root files it has imported; 'idle'
 * when its last in-flight request ends; 'slot' whenever a request ends.
 */
export class Worker extends EventEmitter {
  readonly pid: number;
  readonly startedAt = Date.now();
  watched: WatchedFile[] = [];
  retiring = false;
  /** Requests started on this worker. */
  served = 0;
  /** When it last answered a PING (or started). */
  lastPong = Date.now();
  private readonly exchanges = new InFlight();
  private nextId = 1;
  private exited = false;
  private killing = false;
  private corked = false;
  private broken = false;
  private readonly watchBudget = new WatchBudget();

  /** Use Worker.start(); the constructor takes a process that has said READY. */
  constructor(
    private readonly proc: WorkerProcess,
    ready: Ready,
    private readonly opts: WorkerOptions,
  ) {
    super();
    // The process as Node started (or its fork server reported) it, never the pid READY states: a page's
    // own code runs before READY (a sitecustomize in its virtualenv) and could name a small process to
    // escape max-memory's check of this one.
    this.pid = proc.pid;
    if (ready.pid !== proc.pid)
      opts.log.error(
        `[${opts.tag} pid ${proc.pid}] the worker said its pid was ${ready.pid}; pid ${proc.pid} is watched`,
      );
  }

  /** Resolves once the process has said READY; rejects with the reason (and its last output) otherwise. */
  static start(proc: WorkerProcess, opts: WorkerOptions): Promise<Worker> {
    return handshake(proc, (ready, decoder, early) => {
      const worker = new Worker(proc, ready, opts);
      worker.attach(proc.output, decoder);
      for (const frame of early) worker.deliver(frame);
      return worker;
    });
  }

  get inflight(): number {
    return this.exchanges.size;
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** Runs one request to completion; never rejects. */
  handle(job: Job): Promise<Outcome> {
    const id = this.nextId;
    this.nextId = this.nextId >= 0xfffffffe ? 1 : this.nextId + 1;
    const exchange = new Exchange(id, job, (type, payload) => this.send(type, id, payload), this.opts.log);
    this.exchanges.set(id, exchange);
    this.served++;
    exchange.finished.then(() => this.forget(id));
    exchange.begin();
    return exchange.outcome;
  }

  /** Stops taking requests; the process ends once in-flight ones finish. */
  retire(): void {
    this.retiring = true;
    if (this.inflight === 0) this.stop();
  }

  /** Ends the process now: its in-flight requests fail as crashed. */
  kill(): void {
    if (!this.exited) this.proc.kill('SIGKILL');
  }

  attach(reader: Readable, decoder: FrameDecoder): void {
    reader.on('data', (chunk: Buffer) => {
      // A page runs in this process and could write anything to our pipe:
      // whatever it sends, the worker dies, never the server.
      if (this.broken) return;
      try {
        for (const frame of decoder.push(chunk)) this.dispatch(frame);
      } catch (err) {
        this.protocolError(err as Error);
      }
    });
    this.proc.once('exit', (code, signal) => this.onExit(code, signal));
  }

  /** Frames that arrived with READY, in the same read. */
  deliver(frame: Frame): void {
    try {
      if (!this.broken) this.dispatch(frame);
    } catch (err) {
      this.protocolError(err as Error);
    }
  }

  /** Nothing more it says can be trusted: ignore it and end it; its requests fail as crashed. */
  private protocolError(err: Error): void {
    this.broken = true;
    this.opts.log.error(`[${this.opts.tag} pid ${this.pid}] protocol error: ${err.message}; killing the worker`);
    this.kill();
  }

  /** Throws ProtocolError for a frame the worker may not send: for a request it does not run, a WATCH past its bounds. */
  private dispatch(frame: Frame): void {
    if (frame.type === FromWorker.WATCH) {
      this.watched = this.watchBudget.check(frame.payload);
      this.emit('watch', this.watched);
      return;
    }
    if (frame.type === FromWorker.PONG) return void (this.lastPong = Date.now());
    if (frame.type === FromWorker.READY) return;
    const exchange = this.exchanges.get(frame.id);
    if (!exchange) throw new ProtocolError(`frame 0x${frame.type.toString(16)} for request ${frame.id}, not in flight`);
    exchange.onFrame(frame);
  }

  private send(type: number, id: number, payload?: Buffer): void {
    if (this.exited || !this.proc.input.writable) return;
    // Frames sent in one turn of the event loop (requests, credits) leave in one write.
    if (!this.corked) {
      this.corked = true;
      this.proc.input.cork();
      setImmediate(() => {
        this.corked = false;
        this.proc.input.uncork();
      });
    }
    if (payload && payload.length >= SEPARATE_PAYLOAD) {
      // A large payload (a request body) is not copied into the frame: header and payload leave in one writev.
      this.proc.input.write(encodeFrame(type, id, EMPTY, payload.length));
      this.proc.input.write(payload);
    } else {
      this.proc.input.write(encodeFrame(type, id, payload));
    }
  }

  private forget(id: number): void {
    this.exchanges.delete(id);
    this.emit('slot');
    if (this.exchanges.size === 0) {
      this.emit('idle');
      if (this.retiring) this.stop();
    }
  }

  /** Closing its input tells the worker to exit; it is killed if it lingers. */
  private stop(): void {
    if (this.exited) return;
    this.proc.input.end();
    const timer = setTimeout(() => this.kill(), STOP_GRACE_MS);
    timer.unref();
    this.proc.once('exit', () => clearTimeout(timer));
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.exited = true;
    const how = signal
      ? `killed by ${signal}`
      : code !== null
        ? `exited with code ${code}`
        : 'ended (its exit status is unknown: its fork server is gone)';
    if (this.exchanges.size)
      this.opts.log.error(
        `[${this.opts.tag} pid ${this.pid}] worker ${how} with ${this.exchanges.size} request(s) in flight`,
      );
    for (const exchange of this.exchanges.values()) exchange.crashed(`the Python worker ${how}`);
    this.exchanges.clear();
    this.emit('exit', code, signal);
  }

  /** Heartbeat: the worker answers PONG from its frame loop. */
  ping(): void {
    this.send(ToWorker.PING, 0, jsonPayload({ t: Date.now() }));
  }

  /** Requests in flight, for timeouts and the status page. */
  inFlight(): IterableIterator<Exchange> {
    return this.exchanges.values();
  }

  /**
   * A hung worker: ask Python to write every thread's stack to the error log
   * (faulthandler on SIGUSR1), give it a moment, then kill it. Its requests
   * in flight fail as crashed unless already answered (e.g. 504).
   */
  dumpStacksAndKill(reason: string): void {
    if (this.exited || this.killing) return;
    this.killing = true;
    this.retiring = true; // takes no more requests: they would be lost with it
    this.opts.log.error(
      `[${this.opts.tag} pid ${this.pid}] ${reason}; Python stacks follow, then the worker is replaced`,
    );
    this.proc.kill('SIGUSR1');
    setTimeout(() => this.kill(), STACK_DUMP_MS).unref();
  }

  /** Resident memory in bytes (Linux /proc), or 0 when unknown. */
  rss(): number {
    try {
      const pages = Number(readFileSync(`/proc/${this.pid}/statm`, 'utf8').split(' ')[1]);
      return pages * PAGE_SIZE;
    } catch {
      return 0;
    }
  }
}

/**
 * The requests in flight on one worker, by id: a plain object, not a Map.
 * A Map that is written and deleted from on every request rehashes every
 * few dozen requests, and V8 links each table it leaves behind to the next
 * one; once one of them has been promoted to the old generation it keeps
 * every later table, and the requests they held, alive through scavenges.
 * Measured under load (bench/README.md): with a Map, 1.4 MB of finished
 * requests promoted per scavenge and scavenges pausing Node 2-5 ms (hello's
 * p99); with this object, 0.1 MB and about 1 ms.
 */
class InFlight {
  private items: Record<number, Exchange> = Object.create(null);
  size = 0;

  get(id: number): Exchange | undefined {
    return this.items[id];
  }

  set(id: number, exchange: Exchange): void {
    if (!(id in this.items)) this.size++;
    this.items[id] = exchange;
  }

  delete(id: number): void {
    if (!(id in this.items)) return;
    delete this.items[id];
    this.size--;
  }

  values(): IterableIterator<Exchange> {
    return Object.values(this.items)[Symbol.iterator]();
  }

  clear(): void {
    this.items = Object.create(null);
    this.size = 0;
  }
}
