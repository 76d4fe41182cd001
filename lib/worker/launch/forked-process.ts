// One worker forked by a fork server (lib/worker/launch/forkserver.ts), seen from Node: its
// frames, stdout and stderr come over the three sockets it opened, and its end is told
// by whoever can tell it.
//
// Exits. While its zygote lives, the zygote reaps it and reports its real
// code or signal. Once the zygote is gone (it died, or was replaced), the
// worker is an orphan that Node cannot reap: it is then watched by pid and
// start time (lib/util/process-identity.ts), and its end is reported within a
// poll (code and signal null) whatever holds its sockets open: a page's own
// child process (os.fork(), subprocess with close_fds=False) can keep the
// frame socket open for as long as it runs. Every signal it is sent is
// checked the same way, so a reused pid is never hit.

import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Logger } from '../../util/log.js';
import { isAlive, watchUntilGone, type ProcessId } from '../../util/process-identity.js';
import { signalProcess } from './start-python.js';
import { pageOutput } from '../../util/page-output.js';
import { pipeLines, type WorkerProcess } from './spawn.js';

const OUTPUT_LINGER_MS = 20; // as spawnWorkerProcess: the last printed lines arrive before 'exit'

type Status = { code: number | null; signal: NodeJS.Signals | null };

/** A forked worker. Emits 'exit' (code, signal) once. */
export class ForkedProcess extends EventEmitter implements WorkerProcess {
  readonly tail: string[] = [];
  input!: Socket;
  output!: Socket;
  private status: Status | null = null;
  private framesClosed = false;
  private outputOpen = 2; // stdout and stderr
  private orphan = false;
  private unwatch: (() => void) | null = null;
  private done = false;

  constructor(
    private readonly id: ProcessId,
    private readonly tag: string,
    private readonly log: Logger,
  ) {
    super();
  }

  get pid(): number {
    return this.id.pid;
  }

  /** Its three connections, once all have come. */
  attach(frames: Socket, stdout: Socket, stderr: Socket): void {
    this.input = this.output = frames;
    frames.on('error', () => {}); // EPIPE/ECONNRESET when the worker dies: reported by 'exit'
    frames.once('close', () => {
      this.framesClosed = true;
      this.check();
    });
    this.printed(stdout, 'out');
    this.printed(stderr, 'err');
  }

  /** A stream of its output, logged line by line with its label, as a spawned worker's. */
  private printed(stream: Socket, label: 'out' | 'err'): void {
    stream.on('error', () => {});
    stream.once('close', () => {
      this.outputOpen--;
      this.check();
    });
    pipeLines(stream, this.tail, (line) => pageOutput(this.log, label, `[${this.tag} pid ${this.pid}] ${line}`));
  }

  /** The zygote reaped it. */
  exited(code: number | null, signal: NodeJS.Signals | null): void {
    this.status = { code, signal };
    this.check();
  }

  /** Its zygote is gone: no exit status will come any more. From now on its pid is watched. */
  orphaned(): void {
    if (this.orphan || this.done) return;
    this.orphan = true;
    this.unwatch = watchUntilGone(this.id, () => this.finishSoon({ code: null, signal: null }));
    this.check();
  }

  get gone(): boolean {
    return this.status !== null || this.done;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.gone) signalProcess(this.id, signal); // its pid may belong to someone else by now
  }

  private check(): void {
    if (this.done) return;
    if (this.status) {
      if (this.outputOpen === 0) this.finish(this.status);
      else this.finishSoon(this.status);
    } else if (this.orphan && (this.framesClosed || !isAlive(this.id))) {
      // Its frame channel closed: it cannot serve any more, even if it still runs.
      this.kill('SIGKILL');
      this.finishSoon({ code: null, signal: null });
    }
  }

  private finishSoon(status: Status): void {
    setTimeout(() => this.finish(status), OUTPUT_LINGER_MS);
  }

  private finish({ code, signal }: Status): void {
    if (this.done) return;
    this.done = true;
    this.unwatch?.();
    // A page's child may still hold the frame socket: nothing it sends is a worker's any more.
    this.input?.destroy();
    this.emit('exit', code, signal);
  }
}
