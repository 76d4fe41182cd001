// One request in flight on one worker: writes what the page answers to the
// HTTP response with per-request credit (backpressure), hands the request
// body to lib/http/body/push.ts, and turns every ending (normal, error,
// crash, client gone) into exactly one Outcome.

import type { Logger } from '../util/log.js';
import type { BrotliCompress, Gzip } from 'node:zlib';
import { compressedHead, compressorInto } from './page-compression.js';
import type { Job } from './job.js';
import { RequestBody } from './request-body.js';
import { FileSend, holdsHead, writeHead, type Head, type PageFile } from './file-wrapper.js';
import {
  INITIAL_WINDOW,
  outOfOrder,
  parseStatus,
  ResponseCredit,
  workerError,
  type Failure,
} from './exchange-rules.js';
import { failed, type Outcome } from './outcome.js';
import { PageClock } from './page-clock.js';
import {
  FromWorker,
  jsonPayload,
  parseJson,
  ProtocolError,
  readUint32,
  ToWorker,
  uint32Payload,
  type Frame,
} from './protocol.js';

export type { Outcome } from './outcome.js';
export type { ClientWatch, Job } from './job.js';

export class Exchange {
  readonly outcome: Promise<Outcome>;
  /** Resolves when the worker has sent its terminal frame (or died): the slot is free. */
  readonly finished: Promise<void>;
  private settle!: (o: Outcome) => void;
  private finish!: () => void;
  private settled = false;
  private started = false;
  private aborted = false;
  /** Set by the terminal frame (END or ERROR): the worker may send nothing more for this request. */
  private ended = false;
  private bytes = 0;
  /** The page's file, if it named one (FILE): END waits for it. */
  private readonly file = new FileSend();
  /** A head held until the body's first frame says whether it is a file (./file-wrapper.ts: ranges, 304). */
  private held: Head | null = null;
  /** The compressor the body goes through (compress-pages), or null: straight into the response. */
  private out: Gzip | BrotliCompress | null = null;
  private lastWrite: Promise<void> = Promise.resolve();
  /** Made when the body is first pushed, asked for or drained (body()): most requests have none. */
  private readonly requestBody: RequestBody;
  private readonly credit = new ResponseCredit((n) => this.send(ToWorker.CREDIT, uint32Payload(n)));
  private readonly clock: PageClock;
  private corked = false;

  constructor(
    readonly id: number,
    private readonly job: Job,
    private readonly send: (type: number, payload?: Buffer) => void,
    private readonly log: Logger,
  ) {
    this.outcome = new Promise((r) => (this.settle = r));
    this.finished = new Promise((r) => (this.finish = r));
    this.clock = new PageClock((waiting) => {
      if (job.watch) job.watch.waitingOnClient = waiting;
    });
    this.requestBody = new RequestBody(job, {
      send: (chunk) => this.send(ToWorker.BODY, chunk),
      over: () => this.settled || this.aborted,
      broken: () => this.abort(),
      waitOnClient: (delta) => this.clock.waitOnClient(delta),
    });
  }

  begin(): void {
    const { script, environ, hasBody } = this.job;
    this.job.res.once('close', () => this.onClientClose());
    if (this.job.watch) this.job.watch.onClientTimeout = () => this.clientTimedOut();
    const request = { script, environ, body: hasBody, window: INITIAL_WINDOW, push: this.requestBody.credit };
    this.send(ToWorker.REQUEST, jsonPayload(this.job.details ? { ...request, details: true } : request));
    this.requestBody.start();
  }

  /** One frame for this request. One that breaks the protocol (exchange-rules.ts) ends the request and is thrown on: the worker is not to be trusted. */
  onFrame(frame: Frame): void {
    try {
      if (this.ended) throw outOfOrder(`frame 0x${frame.type.toString(16)} after the request's terminal frame`);
      this.handle(frame);
    } catch (err) {
      const broken = err instanceof ProtocolError;
      this.log.error(
        `request ${this.job.requestId} (${this.job.script}): ${broken ? 'protocol violation' : 'bad frame'} from the worker: ${(err as Error).message}`,
      );
      this.fail({ kind: 'protocol', message: (err as Error).message, traceback: '' });
      if (!broken) return;
      this.job.res.destroy(); // what the worker sent is not to be trusted: nothing more of it leaves
      this.abort();
      throw err;
    }
  }

  /** The worker process died: this request gets a 502 if nothing was sent yet. */
  crashed(reason: string): void {
    this.fail({ kind: 'crash', message: reason, traceback: '' });
    this.finish();
  }

  private handle(frame: Frame): void {
    if (this.held && frame.type !== FromWorker.FILE) this.releaseHead();
    switch (frame.type) {
      case FromWorker.START:
        return this.onStart(parseJson(frame.payload));
      case FromWorker.BODY:
        return this.onBody(frame.parts);
      case FromWorker.END:
        return void this.onEnd(parseJson<{ complete: boolean }>(frame.payload).complete);
      case FromWorker.ERROR:
        return this.onError(workerError(frame.payload));
      case FromWorker.READ:
        return this.requestBody.grant(readUint32(frame.payload));
      case FromWorker.FILE:
        return void this.onFile(parseJson(frame.payload));
      default:
        throw new ProtocolError(`unexpected frame type 0x${frame.type.toString(16)} for a request`);
    }
  }

  private onStart(start: { status: string; headers: [string, string][] }): void {
    if (this.started) throw outOfOrder('a second START');
    this.started = true;
    const [status, reason] = parseStatus(start.status);
    const res = this.job.res;
    if (this.aborted || res.destroyed) return;
    const head = { status, reason, headers: start.headers };
    if (holdsHead(this.job.environ, head)) return void (this.held = head);
    const zipped = this.job.encoding ? compressedHead(head, this.job.encoding) : null;
    if (zipped) this.out = compressorInto(res, this.job.encoding!);
    writeHead(res, zipped ?? head);
    this.corkUntilNextTick(); // head, body and end usually arrive in one read: they leave in one write
  }

  private releaseHead(): void {
    const held = this.held!;
    this.held = null;
    if (!this.job.res.destroyed) writeHead(this.job.res, held);
  }

  /** A piece of the response body, as one or more buffers as they came off the pipe (written without joining them). */
  private onBody(parts: readonly Buffer[]): void {
    if (!this.started) throw outOfOrder('BODY before START');
    if (this.file.sending) throw outOfOrder("BODY while Node sends the page's file");
    let length = 0;
    for (const part of parts) length += part.length;
    this.credit.take(length);
    const res = this.job.res;
    if (this.aborted || res.destroyed) return this.credit.give(length);
    this.bytes += length;
    // Credit returns only once the bytes left for the client: a slow reader slows the page.
    this.clock.waitOnClient(+1);
    this.corkUntilNextTick(); // the pieces, and the frames of the same read, leave in one write
    const out = this.out ?? res;
    for (let i = 0; i < parts.length - 1; i++) out.write(parts[i]);
    this.lastWrite = new Promise((flushed) =>
      out.write(parts[parts.length - 1], () => {
        this.clock.waitOnClient(-1);
        if (!this.ended) this.credit.give(length); // no more to send: no credit needed
        flushed();
      }),
    );
    this.out?.flush(); // a streaming page's pieces reach its client as they come
  }

  private corkUntilNextTick(): void {
    if (this.corked) return;
    this.corked = true;
    const res = this.job.res;
    res.cork();
    process.nextTick(() => {
      this.corked = false;
      res.uncork();
    });
  }

  private async onEnd(complete: boolean): Promise<void> {
    this.ended = true;
    if (this.file.done) await this.file.done;
    if (this.settled) return this.finish(); // already answered for the page (a timeout): its end changes nothing
    const res = this.job.res;
    if (!complete) {
      this.log.error(
        `request ${this.job.requestId}: response body shorter than its Content-Length or cut short; closing the connection`,
      );
      this.closeAfterFlush();
    } else if (!res.destroyed) {
      if (!res.headersSent) res.writeHead(200);
      (this.out ?? res).end();
    }
    this.requestBody.drain();
    this.resolve({ kind: 'done', status: res.statusCode, bytes: this.bytes, complete });
    this.finish();
  }

  private onError(error: Failure): void {
    this.ended = true;
    this.fail(error);
    this.finish();
  }

  /**
   * The client sent nothing (or read nothing) for client-timeout while the
   * page waited on it: 408 if nothing was answered yet, else the connection
   * is cut; either way the page's read fails, so its thread is freed.
   */
  clientTimedOut(): void {
    const started = this.started || this.job.res.headersSent;
    const res = this.job.res;
    this.log.error(
      `request ${this.job.requestId}: the client was silent for client-timeout while the page waited on it; ${started ? 'closing the connection' : '408'}`,
    );
    if (started) {
      res.destroy();
      this.resolve({ kind: 'done', status: res.statusCode, bytes: this.bytes, complete: false });
    } else {
      this.fail({ kind: 'client-timeout', message: 'the client sent nothing for client-timeout', traceback: '' });
    }
    this.abort();
  }

  /** How long the page itself has been running: wall time minus time spent waiting on the client. */
  activeMs(now = Date.now()): number {
    return this.clock.activeMs(now);
  }

  /** True once timedOut() has run: the limit is enforced once. */
  isTimedOut = false;

  /** The request ran past its time limit: 504 if nothing was sent yet, else the connection is closed. */
  timedOut(limitMs: number): void {
    this.isTimedOut = true;
    this.fail({
      kind: 'timeout',
      message: `the page ran longer than the request timeout (${limitMs / 1000} s)`,
      traceback: '',
    });
  }

  get requestId(): string {
    return this.job.requestId;
  }

  private onFile(file: PageFile): void {
    if (!this.started || this.file.sending) throw outOfOrder(this.started ? 'a second FILE' : 'FILE before START');
    this.file.start(file, this.job.res, (opened) => this.send(ToWorker.FILE_OPENED, jsonPayload(opened)), {
      takeHeld: () => {
        const held = this.held;
        this.held = null;
        return held;
      },
      environ: this.job.environ,
      into: this.out,
      aborted: this.aborted,
      counted: (bytes) => (this.bytes += bytes),
      runAs: this.job.runAs,
      log: (problem) => this.log.error(`request ${this.job.requestId} (${this.job.script}): ${problem}`),
    });
  }

  private fail(error: Failure): void {
    if (this.settled) return; // already answered (e.g. 504): a later crash of the worker is not this request's
    const res = this.job.res;
    if (this.held) [this.held, this.started] = [null, false]; // nothing was sent: an error page can still be
    if (this.started || res.headersSent) {
      this.log.error(
        `request ${this.job.requestId}: ${error.kind} error after the response started; closing the connection: ${error.message}\n${error.traceback}`.trimEnd(),
      );
      this.closeAfterFlush();
      this.resolve({ kind: 'done', status: res.statusCode, bytes: this.bytes, complete: false });
    } else {
      this.resolve(failed(error.kind, error.message, error.traceback, error.details));
    }
    this.requestBody.drain();
  }

  /** Closes the connection without a proper end, once what was written has left: the client sees a truncated response. */
  private closeAfterFlush(): void {
    const res = this.job.res;
    Promise.all([this.lastWrite, this.file.done]).then(() => res.destroy());
  }

  private onClientClose(): void {
    if (!this.job.res.writableFinished) this.abort();
  }

  private abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.send(ToWorker.ABORT);
  }

  private resolve(outcome: Outcome): void {
    if (this.settled) return;
    this.settled = true;
    this.settle(outcome);
  }
}
