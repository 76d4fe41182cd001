// What a request brings to a worker (lib/worker/exchange.ts): its script,
// environ, body and response, and the watch lib/http/client-timeouts.ts
// keeps on whose turn it is.

import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Encoding } from '../http/compression.js';
import type { Identity, RunAs } from '../tenant/identity.js';

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
  /** compress-pages: the encoding the client accepts, or null (absent: never compress). */
  encoding?: Encoding | null;
  /** Ask the worker for ERROR's details with frames and locals (development mode). */
  details?: boolean;
  /** Kept current for lib/http/client-timeouts.ts: whether the page waits on its client, and how to end it if so. */
  watch?: ClientWatch;
  /** The user its page runs as (set by its group): a file its page names (FILE) is sent only if that user could read it. */
  runAs?: RunAs | null;
}

/** `job`, marked with the user of the group that runs it (a group's identity; null: no user is switched). */
export function withRunAs(job: Job, identity: Identity): Job {
  job.runAs = identity.kind === 'user' ? identity.runAs : null;
  return job;
}

/** Whose turn it is on a page request: the page's, or its client's. */
export interface ClientWatch {
  /** True while the page waits on the client (body bytes, room to write); false while it works or waits in line. */
  waitingOnClient: boolean;
  /** Ends the request because its client went silent while the page waited on it. */
  onClientTimeout: (() => void) | null;
}
