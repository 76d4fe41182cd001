// One request in flight on one worker: writes what the page answers to the
// HTTP response with per-request credit (backpressure), hands the request
// body to lib/http/body/push.ts, and turns every ending (normal, error,
// crash, client gone) into exactly one Outcome.

import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { BodyPush } from '../http/body/push.js';
import type { Logger } from '../util/log.js';
import { checkedDetails } from './error-details.js';
import { openPageFile, sendPageFile, type PageFile } from './file-wrapper.js';
import { failed, isWorkerErrorKind, WORKER_ERROR_STATUS, type ErrorKind, type Outcome } from './outcome.js';
import {
  BODY_WINDOW,
  EMPTY,
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

/** Response credit granted up front: what may sit between Python and the socket. */
export const INITIAL_WINDOW = 512 * 1024;

export interface Job {
  script: string;
  environ: Record<string, string>;
  /** The request body, read only as a stream (it may be a wrapper that enforces limits). */
  req: Readable;
  res: ServerResponse;
  hasBody: boolean;
  /** Send the body before the page asks (not when the client waits for "100 Continue": only a read may send that). */
  pushBody: boolean;
  requestId: string;
  details?: boolean; // ask for ERROR's details with frames and locals (development mode)
  /** Kept current for lib/http/client-timeouts.ts: whether the page waits on its client, and how to end it if so. */
  watch?: ClientWatch;
}

/** Whose turn it is on a page request: the page's, or its client's. */
export interface ClientWatch {
  /** True while the page waits on the client (body bytes, room to write); false while it works or waits in line. */
  waitingOnClient: boolean;
  /** Ends the request because its client went silent while the page waited on it. */
  onClientTimeout: (() => void) | null;
}

type Failure = { kind: ErrorKind } & Pick<Extract<Outcome, { kind: 'error' }>, 'message' | 'traceback' | 'details'>;

type Send = (type: number, payload?: Buffer) => void;

export class Exchange {
  readonly outcome: Promise<Outcome>;
  /** Resolves when the worker has sent its terminal frame (or died): the slot is free. */
  readonly finished: Promise<void>;
  private settle!: (o: Outcome) => void;
  private finish!: () => void;
  private settled = false;
  private started = false;
  private aborted = false;
  private ended = false;
  private bytes = 0;
  /** Set once Node streams a file for the page (FILE): END waits for it. */
  private fileSent: Promise<void> | null = null;
  private lastWrite: Promise<void> = Promise.resolve();
  /** Made when the body is first pushed, asked for or drained (body()): most requests have none. */
  private bodyPush: BodyPush | null = null;
  /** Request-body bytes Node may send before the page asks: the REQUEST's `push`. */
  private pushCredit = 0;
  private readonly startedAt = Date.now();
  /** Time spent waiting on the client (body to read, bytes to flush): not the page's fault. */
  private clientWaitMs = 0;
  private clientWaits = 0;
  private clientWaitSince = 0;

  constructor(
    readonly id: number,
    private readonly job: Job,
    private readonly send: Send,
    private readonly log: Logger,
  ) {
    this.outcome = new Promise((r) => (this.settle = r));
    this.finished = new Promise((r) => (this.finish = r));
  }

  begin(): void {
    const { script, environ, hasBody } = this.job;
    this.pushCredit = hasBody && this.job.pushBody ? BODY_WINDOW : 0;
    this.job.res.once('close', () => this.onClientClose());
    if (this.job.watch) this.job.watch.onClientTimeout = () => this.clientTimedOut();
    const request = { script, environ, body: hasBody, window: INITIAL_WINDOW, push: this.pushCredit };
    this.send(ToWorker.REQUEST, jsonPayload(this.job.details ? { ...request, details: true } : request));
    if (this.pushCredit > 0) this.body().start();
  }

  onFrame(frame: Frame): void {
    try {
      this.handle(frame);
    } catch (err) {
      this.log.error(`request ${this.job.requestId}: bad frame from worker: ${(err as Error).message}`);
      this.fail({ kind: 'protocol', message: (err as Error).message, traceback: '' });
    }
  }

  /** The worker process died: this request gets a 502 if nothing was sent yet. */
  crashed(reason: string): void {
    this.fail({ kind: 'crash', message: reason, traceback: '' });
    this.finish();
  }

  private handle(frame: Frame): void {
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
        return this.body().grant(readUint32(frame.payload));
      case FromWorker.FILE:
        return void this.onFile(parseJson(frame.payload));
      default:
        throw new Error(`unexpected frame type 0x${frame.type.toString(16)}`);
    }
  }

  private onStart(start: { status: string; headers: [string, string][] }): void {
    const match = /^(\d{3})(?: (.*))?$/.exec(start.status);
    if (!match) throw new Error(`bad status line ${JSON.stringify(start.status)}`);
    // An informational status is never an answer: the client would wait for the real one forever.
    if (Number(match[1]) < 200)
      throw new Error(`a page's final status must be 200 or more, not ${JSON.stringify(start.status)}`);
    const res = this.job.res;
    this.started = true;
    if (this.aborted || res.destroyed) return;
    res.writeHead(Number(match[1]), match[2] ?? '', start.headers.flat());
    this.corkUntilNextTick(); // head, body and end usually arrive in one read: they leave in one write
  }

  /** A piece of the response body, as one or more buffers as they came off the pipe (written without joining them). */
  private onBody(parts: readonly Buffer[]): void {
    let length = 0;
    for (const part of parts) length += part.length;
    const res = this.job.res;
    if (this.aborted || res.destroyed) return this.send(ToWorker.CREDIT, uint32Payload(length));
    this.bytes += length;
    // Credit returns only once the bytes left for the client: a slow reader slows the page.
    this.waitOnClient(+1);
    this.corkUntilNextTick(); // the pieces, and the frames of the same read, leave in one write
    for (let i = 0; i < parts.length - 1; i++) res.write(parts[i]);
    this.lastWrite = new Promise((flushed) =>
      res.write(parts.length ? parts[parts.length - 1] : EMPTY, () => {
        this.waitOnClient(-1);
        if (!this.ended) this.send(ToWorker.CREDIT, uint32Payload(length)); // no more to send: no credit needed
        flushed();
      }),
    );
  }

  private corked = false;

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
    if (this.fileSent) await this.fileSent;
    if (this.settled) return this.finish(); // already answered for the page (a timeout): its end changes nothing
    const res = this.job.res;
    if (!complete) {
      this.log.error(
        `request ${this.job.requestId}: response body shorter than its Content-Length or cut short; closing the connection`,
      );
      this.closeAfterFlush();
    } else if (!res.destroyed) {
      if (!res.headersSent) res.writeHead(200);
      res.end();
    }
    this.drainBody();
    this.resolve({ kind: 'done', status: res.statusCode, bytes: this.bytes, complete });
    this.finish();
  }

  private onError(error: Failure): void {
    this.fail(error);
    this.finish();
  }

  private waitOnClient(delta: number): void {
    const now = Date.now();
    if (this.clientWaits === 0 && delta > 0) this.clientWaitSince = now;
    this.clientWaits += delta;
    if (this.clientWaits === 0) this.clientWaitMs += now - this.clientWaitSince;
    if (this.job.watch) this.job.watch.waitingOnClient = this.clientWaits > 0;
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
    const waiting = this.clientWaits > 0 ? now - this.clientWaitSince : 0;
    return now - this.startedAt - this.clientWaitMs - waiting;
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

  private async onFile(file: PageFile): Promise<void> {
    const handle = await openPageFile(file);
    if (handle instanceof Error)
      return this.send(ToWorker.FILE_OPENED, jsonPayload({ ok: false, error: handle.message }));
    this.send(ToWorker.FILE_OPENED, jsonPayload({ ok: true }));
    this.fileSent = sendPageFile(handle, file, this.job.res, {
      aborted: this.aborted,
      counted: (bytes) => (this.bytes += bytes),
      failed: (err) => this.log.error(`request ${this.job.requestId}: sending file failed: ${err.message}`),
    });
  }

  private fail(error: Failure): void {
    if (this.settled) return; // already answered (e.g. 504): a later crash of the worker is not this request's
    const res = this.job.res;
    if (this.started || res.headersSent) {
      this.log.error(
        `request ${this.job.requestId}: ${error.kind} error after the response started; closing the connection: ${error.message}\n${error.traceback}`.trimEnd(),
      );
      this.closeAfterFlush();
      this.resolve({ kind: 'done', status: res.statusCode, bytes: this.bytes, complete: false });
    } else {
      this.resolve(failed(error.kind, error.message, error.traceback, error.details));
    }
    this.drainBody();
  }

  private body(): BodyPush {
    return (this.bodyPush ??= new BodyPush(this.job.req, BODY_WINDOW, this.pushCredit, {
      send: (chunk) => this.send(ToWorker.BODY, chunk),
      over: () => this.settled || this.aborted,
      broken: () => this.abort(),
      waitOnClient: (delta) => this.waitOnClient(delta),
    }));
  }

  /** Lets an unread request body flow away, so the connection can be reused. */
  private drainBody(): void {
    if (this.job.hasBody) this.body().drain();
  }

  /** Closes the connection without a proper end, once what was written has left: the client sees a truncated response. */
  private closeAfterFlush(): void {
    const res = this.job.res;
    Promise.all([this.lastWrite, this.fileSent]).then(() => res.destroy());
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

/** An ERROR frame's payload, checked: a kind outside lib/worker/protocol.md's table, or another status than its own, is a ProtocolError. */
function workerError(payload: Buffer): Failure {
  const e = parseJson<Record<string, unknown>>(payload);
  if (!isWorkerErrorKind(e.kind) || e.status !== WORKER_ERROR_STATUS[e.kind]) {
    throw new ProtocolError(
      `ERROR with kind ${JSON.stringify(e.kind)} and status ${JSON.stringify(e.status)}, not one of lib/worker/protocol.md's`,
    );
  }
  const [message, traceback] = [String(e.message ?? ''), String(e.traceback ?? '')];
  return { kind: e.kind, message, traceback, details: checkedDetails(e.details) };
}
