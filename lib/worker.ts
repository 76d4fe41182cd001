// One Python worker process seen from Node: spawn, handshake, multiplexed
// requests over the frame pipes, and what happens when the process dies.
// It knows nothing of groups or Koa: it is given a request and a response.

import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { Exchange, type Job, type Outcome } from './exchange.js';
import { encodeFrame, FrameDecoder, FromWorker, jsonPayload, parseJson, ToWorker, type Frame } from './protocol.js';
import { pythonPackageDir } from './paths.js';
import type { Logger } from './log.js';

export interface WorkerOptions {
  python: string;   // interpreter path
  root: string;     // document root (realpath)
  cwd: string;      // working directory of the process
  threads: number;  // requests it may run at once
  tag: string;      // how its output is labelled in the error log
  log: Logger;
}

export interface WatchedFile {
  path: string;
  mtimeNs: string;
  size: number;
}

interface Ready { pid: number; python: string; executable: string; protocol: number }

const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;

/**
 * A running worker. Events: 'exit' (code, signal) once the process is gone;
 * 'watch' when it reports the document-root files it has imported; 'idle'
 * when its last in-flight request ends; 'slot' whenever a request ends.
 */
export class Worker extends EventEmitter {
  readonly pid: number;
  watched: WatchedFile[] = [];
  retiring = false;
  private readonly exchanges = new Map<number, Exchange>();
  private nextId = 1;
  private exited = false;

  /** Use Worker.start(); the constructor takes a child that has said READY. */
  constructor(private readonly child: ChildProcess, private readonly toWorker: Writable, ready: Ready, private readonly opts: WorkerOptions) {
    super();
    this.pid = ready.pid;
  }

  /** Spawns a worker and resolves once it has said READY; rejects with the reason otherwise. */
  static start(opts: WorkerOptions): Promise<Worker> {
    const child = spawn(opts.python, ['-u', '-m', 'pypages_worker', '--root', opts.root, '--threads', String(opts.threads)], {
      cwd: opts.cwd,
      env: workerEnv(),
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    });
    const tail: string[] = [];
    const print = (line: string) => opts.log.error(`[${opts.tag} pid ${child.pid}] ${line}`);
    pipeLines(child.stdout!, tail, print);
    pipeLines(child.stderr!, tail, print);
    return handshake(child, opts, tail);
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
    if (!this.exited) this.child.kill('SIGKILL');
  }

  attach(reader: Readable, decoder: FrameDecoder): void {
    reader.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        this.opts.log.error(`[${this.opts.tag} pid ${this.pid}] protocol error: ${(err as Error).message}; killing the worker`);
        return this.kill();
      }
      for (const frame of frames) this.dispatch(frame);
    });
    this.child.once('exit', (code, signal) => this.onExit(code, signal));
  }

  private dispatch(frame: Frame): void {
    if (frame.type === FromWorker.WATCH) {
      const files = parseJson<{ files: [string, string, number][] }>(frame.payload).files;
      this.watched = files.map(([path, mtimeNs, size]) => ({ path, mtimeNs: String(mtimeNs), size }));
      this.emit('watch', this.watched);
      return;
    }
    if (frame.type === FromWorker.PONG || frame.type === FromWorker.READY) return;
    const exchange = this.exchanges.get(frame.id);
    if (exchange) exchange.onFrame(frame);
    else this.opts.log.error(`[${this.opts.tag} pid ${this.pid}] frame 0x${frame.type.toString(16)} for unknown request ${frame.id}`);
  }

  private send(type: number, id: number, payload?: Buffer): void {
    if (!this.exited && this.toWorker.writable) this.toWorker.write(encodeFrame(type, id, payload));
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
    this.toWorker.end();
    const timer = setTimeout(() => this.kill(), STOP_GRACE_MS);
    timer.unref();
    this.child.once('exit', () => clearTimeout(timer));
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.exited = true;
    const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
    if (this.exchanges.size) this.opts.log.error(`[${this.opts.tag} pid ${this.pid}] worker ${how} with ${this.exchanges.size} request(s) in flight`);
    for (const exchange of this.exchanges.values()) exchange.crashed(`the Python worker ${how}`);
    this.exchanges.clear();
    this.emit('exit', code, signal);
  }

  /** Sent once the worker runs: used for the handshake and liveness. */
  ping(): void {
    this.send(ToWorker.PING, 0, jsonPayload({ t: Date.now() }));
  }
}

function workerEnv(): NodeJS.ProcessEnv {
  const existing = process.env.PYTHONPATH;
  return {
    ...process.env,
    PYTHONPATH: existing ? `${pythonPackageDir}:${existing}` : pythonPackageDir,
    PYTHONDONTWRITEBYTECODE: '1', // no __pycache__ litter in users' folders, no stale .pyc after an edit
    PYTHONUNBUFFERED: '1',
  };
}

/** Waits for READY, then hands the pipes to a Worker. */
function handshake(child: ChildProcess, opts: WorkerOptions, tail: string[]): Promise<Worker> {
  const fromWorker = child.stdio[4] as Readable;
  const toWorker = child.stdio[3] as Writable;
  toWorker.on('error', () => {}); // EPIPE when the worker dies: handled by 'exit'
  return new Promise((resolve, reject) => {
    const decoder = new FrameDecoder();
    const fail = (reason: string) => {
      cleanup();
      child.kill('SIGKILL');
      reject(new Error(`${reason}${tail.length ? `:\n${tail.join('\n')}` : ''}`));
    };
    const timer = setTimeout(() => fail(`the Python worker did not start within ${READY_TIMEOUT_MS / 1000} s`), READY_TIMEOUT_MS);
    const onError = (err: Error) => fail(`cannot start ${opts.python}: ${err.message}`);
    const onExit = (code: number | null, signal: string | null) =>
      setTimeout(() => fail(`the Python worker exited before it was ready (${signal ?? `code ${code}`})`), 20);
    const onData = (chunk: Buffer) => {
      const frames = decoder.push(chunk);
      if (!frames.length) return;
      if (frames[0].type !== FromWorker.READY) return fail(`the Python worker sent 0x${frames[0].type.toString(16)} instead of READY`);
      cleanup();
      const worker = new Worker(child, toWorker, parseJson<Ready>(frames[0].payload), opts);
      worker.attach(fromWorker, decoder);
      resolve(worker);
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off('error', onError).off('exit', onExit);
      fromWorker.off('data', onData);
    };
    child.on('error', onError).on('exit', onExit);
    fromWorker.on('data', onData);
  });
}

/** Splits a stream into lines; keeps the last few in `tail` for startup errors. */
function pipeLines(stream: Readable, tail: string[], onLine: (line: string) => void): void {
  const emit = (line: string) => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
    onLine(line);
  };
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (text: string) => {
    const lines = (rest + text).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) emit(line.replace(/\r$/, ''));
  });
  stream.on('end', () => rest && emit(rest));
}
