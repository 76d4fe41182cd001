// What a worker may send for one request (lib/worker/protocol.md, "A
// request's life"), checked on Node's side. A page runs inside the worker and
// can write any frame it likes onto the worker's pipe, so nothing a worker
// says is taken on trust where it would cost Node memory or turn: response
// bytes beyond the credit Node granted, frames out of their order, an ERROR
// outside the closed set, more request-body credit than the window. Each is a
// ProtocolError: the request ends and the worker is replaced.

import { checkedDetails, type ErrorDetails } from './error-details.js';
import { isWorkerErrorKind, WORKER_ERROR_STATUS, type ErrorKind } from './outcome.js';
import { BODY_WINDOW, parseJson, ProtocolError } from './protocol.js';

/** Response credit granted up front: what may sit between Python and the socket. */
export const INITIAL_WINDOW = 512 * 1024;
/** The largest response BODY frame (protocol.md; protocol.py's MAX_BODY_CHUNK). */
export const MAX_BODY_FRAME = 256 * 1024;
/**
 * Flushed bytes returned to the worker in one CREDIT: a frame per 64 KiB
 * chunk woke a waiting page once per chunk (protocol.md, step 4). Credit
 * held back plus the largest frame still fit the window, so a page that
 * waits for credit always gets it once what it sent has left.
 */
export const CREDIT_BATCH = INITIAL_WINDOW - MAX_BODY_FRAME;

export interface Failure {
  kind: ErrorKind;
  message: string;
  traceback: string;
  /** ERROR's details (lib/worker/error-details.ts), checked. */
  details?: ErrorDetails;
}

/**
 * The response credit as Node sees it: bytes received in BODY frames minus
 * the CREDIT Node has sent back. The worker counts the CREDIT it has
 * received, which is never more than Node has sent, so a worker that keeps
 * the rule never trips this check.
 */
export class ResponseCredit {
  private outstanding = 0;
  /** Bytes flushed to the client and not yet returned as CREDIT (less than CREDIT_BATCH). */
  private flushed = 0;

  /** `send` sends CREDIT(n) to the worker. */
  constructor(private readonly send: (n: number) => void) {}

  /** A BODY frame of `length` bytes arrived: throws ProtocolError if the worker had no credit for it. */
  take(length: number): void {
    if (length === 0 || length > MAX_BODY_FRAME)
      throw new ProtocolError(`a response BODY frame of ${length} bytes (1 to ${MAX_BODY_FRAME} allowed)`);
    // A lone frame may exceed the window when nothing is outstanding (protocol.md, step 4).
    if (this.outstanding > 0 && this.outstanding + length > INITIAL_WINDOW)
      throw new ProtocolError(
        `response bytes beyond the credit granted: ${this.outstanding + length} outstanding, the window is ${INITIAL_WINDOW}`,
      );
    this.outstanding += length;
  }

  /** `length` bytes left for the client: once CREDIT_BATCH have, CREDIT for them; the worker may send that much more. */
  give(length: number): void {
    this.flushed += length;
    if (this.flushed < CREDIT_BATCH) return;
    this.outstanding -= this.flushed;
    this.send(this.flushed);
    this.flushed = 0;
  }
}

/** READ(grant) on top of `credit` request-body bytes Node still had: throws ProtocolError past the window. */
export function checkBodyGrant(credit: number, grant: number): void {
  if (credit + grant > BODY_WINDOW)
    throw new ProtocolError(`READ of ${grant} would let Node send ${credit + grant} body bytes, past ${BODY_WINDOW}`);
}

/** A frame that is not allowed at this point of the response: `what` says which. */
export function outOfOrder(what: string): ProtocolError {
  return new ProtocolError(`${what} (lib/worker/protocol.md, "A request's life")`);
}

/** A START's status line, checked: its code, and its reason phrase (may be empty). */
export function parseStatus(status: string): [number, string] {
  const match = /^(\d{3})(?: (.*))?$/.exec(status);
  if (!match) throw new Error(`bad status line ${JSON.stringify(status)}`);
  // An informational status is never an answer: the client would wait for the real one forever.
  if (Number(match[1]) < 200)
    throw new Error(`a page's final status must be 200 or more, not ${JSON.stringify(status)}`);
  return [Number(match[1]), match[2] ?? ''];
}

/** An ERROR frame's payload, checked: a kind outside lib/worker/protocol.md's table, or another status than its own, is a ProtocolError. */
export function workerError(payload: Buffer): Failure {
  const e = parseJson<Record<string, unknown>>(payload);
  if (!isWorkerErrorKind(e.kind) || e.status !== WORKER_ERROR_STATUS[e.kind]) {
    throw new ProtocolError(
      `ERROR with kind ${JSON.stringify(e.kind)} and status ${JSON.stringify(e.status)}, not one of lib/worker/protocol.md's`,
    );
  }
  const [message, traceback] = [String(e.message ?? ''), String(e.traceback ?? '')];
  return { kind: e.kind, message, traceback, details: checkedDetails(e.details) };
}
