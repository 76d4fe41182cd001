// How a request on a worker ended: exactly one Outcome per request, and the
// closed set of error kinds an error Outcome carries. The worker's kinds come
// in its ERROR frames; they mirror lib/worker/protocol.md ("ERROR kinds") and
// lib/python/pypages_worker/errors.py, and test/unit/worker/outcome.test.ts
// holds them to that table. The other kinds are Node's own.

import type { ErrorDetails } from './error-details.js';

/** ERROR kinds the worker sends, each with the one status it always comes with. */
export const WORKER_ERROR_STATUS = {
  'not-page': 404,
  'not-callable': 404,
  load: 500,
  app: 500,
  protocol: 500,
} as const;

/** Kinds Node decides itself, each with the status the client gets. */
export const NODE_ERROR_STATUS = {
  busy: 503, // the group's line is full, no thread came free in time, or the server is stopping
  start: 500, // no worker process could be started
  crash: 502, // the worker died while the request ran
  timeout: 504, // the page ran past request-timeout
  'client-gone': 499, // the client left while the request waited (nginx's 499, for the access log)
  'client-timeout': 408, // the client went silent while the page waited on it
} as const;

export type WorkerErrorKind = keyof typeof WORKER_ERROR_STATUS;
export type NodeErrorKind = keyof typeof NODE_ERROR_STATUS;
export type ErrorKind = WorkerErrorKind | NodeErrorKind;

export type Outcome =
  | { kind: 'done'; status: number; bytes: number; complete: boolean }
  | {
      kind: 'error';
      status: number;
      errorKind: ErrorKind;
      message: string;
      traceback: string;
      /** What the worker told about the error beyond its message (ERROR's `details`), if anything. */
      details?: ErrorDetails;
    };

/** An error Outcome of `errorKind`, with that kind's status. */
export function failed(errorKind: ErrorKind, message: string, traceback = '', details?: ErrorDetails): Outcome {
  return { kind: 'error', status: statusOf(errorKind), errorKind, message, traceback, ...(details && { details }) };
}

/** The status that goes with an error kind. */
export function statusOf(errorKind: ErrorKind): number {
  return errorKind in WORKER_ERROR_STATUS
    ? WORKER_ERROR_STATUS[errorKind as WorkerErrorKind]
    : NODE_ERROR_STATUS[errorKind as NodeErrorKind];
}

/** True for a kind the worker may send in ERROR. */
export function isWorkerErrorKind(kind: unknown): kind is WorkerErrorKind {
  return typeof kind === 'string' && Object.hasOwn(WORKER_ERROR_STATUS, kind);
}
