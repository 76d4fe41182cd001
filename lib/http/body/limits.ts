// The request body on its way to a page: the max-body limit and
// "Expect: 100-continue", both decided as late as possible and in one place.
// A body declared too large (Content-Length) is refused before anything runs;
// a chunked body is counted as it goes to the worker (which it does as it
// arrives, up to 256 KiB ahead of the page's reads: ./push.ts).
// "100 Continue" is sent only when the page first reads the body (no body
// goes ahead of the page then), so a page that answers without reading never
// makes the client send it (Node then closes the connection).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { errorPageText, writeErrorPage } from '../error-page.js';
import { http2HasBody } from '../h2.js';

/** True when the request carries a body the app may read. */
export function hasRequestBody(headers: Record<string, string | string[] | undefined>): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = headers['content-length'];
  return typeof length === 'string' && Number(length) > 0;
}

/** True when the request declares (Content-Length) a body over `maxBody` bytes; 0 means no limit. */
export function declaredTooLarge(req: IncomingMessage, maxBody: number): boolean {
  const length = req.headers['content-length'];
  return maxBody > 0 && length !== undefined && Number(length) > maxBody;
}

/** True when the client waits for "100 Continue" before it sends the body (an HTTP/1.0 client cannot: RFC 9110 10.1.1). */
export function expectsContinue(req: IncomingMessage): boolean {
  return req.httpVersionMinor >= 1 && /^100-continue$/i.test(req.headers.expect ?? '');
}

/** How a page request's body goes to its worker: whether there is one, the stream the worker reads, whether it is sent unasked. */
export interface RequestBody {
  hasBody: boolean;
  /** The request, or (when it has a body) the wrapper that enforces max-body and answers 100-continue. */
  body: Readable;
  /** Send the body as it arrives, up to `window` bytes ahead of the page's reads, rather than when the page asks. */
  push: boolean;
}

/**
 * The body's way to the page. It is pushed as it arrives, unless the client
 * waits for "100 Continue" (sent only if the page reads), or max-body is
 * below `window`, what would be sent unasked: a page that never reads the
 * body must not be refused for it, nor the 413 race the page's own answer.
 */
export function requestBody(
  req: IncomingMessage,
  res: ServerResponse,
  limits: BodyLimits,
  window: number,
): RequestBody {
  const hasBody = hasRequestBody(req.headers) || http2HasBody(req);
  if (!hasBody) return { hasBody, body: req, push: false };
  const push = !expectsContinue(req) && (limits.maxBody === 0 || limits.maxBody >= window);
  return { hasBody, body: pageBody(req, res, limits), push };
}

/**
 * Wraps `req` for the worker to read. The first read sends "100 Continue" if
 * the client waits for it (and no response has started). Past `maxBody`
 * bytes (0: no limit) it answers 413 itself if the response has not started,
 * else closes the connection, and fails the stream so the page stops reading.
 */
export function pageBody(req: IncomingMessage, res: ServerResponse, limits: BodyLimits): Readable {
  return new PageBody(req, res, limits);
}

export interface BodyLimits {
  maxBody: number;
  /** For the 413 page: the request id, and whether details may be shown. */
  requestId: string;
  debug: boolean;
}

class PageBody extends Readable {
  private seen = 0;
  private asked = false;
  private waiting = false;
  private readonly expects100: boolean;

  private readonly maxBody: number;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly limits: BodyLimits,
  ) {
    super();
    this.maxBody = limits.maxBody;
    this.expects100 = expectsContinue(req);
    // The client can end this stream with an error before anyone reads it (the page has no worker
    // yet, waits in line, or waits for 100 Continue). Its reader, made later, finds the error in
    // `errored`; without a listener now, the error would be thrown and end the process.
    this.on('error', () => {});
    req.once('end', () => this.push(null));
    req.once('error', (err) => this.destroy(err));
    req.once('close', () => {
      if (!req.readableEnded)
        this.destroy(new Error('client closed the connection before the end of the request body'));
    });
  }

  override _read(): void {
    if (!this.asked && this.expects100 && !this.res.headersSent) this.res.writeContinue();
    this.asked = true;
    this.pull();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.req.off('readable', this.onReadable);
    done(err);
  }

  private readonly onReadable = () => {
    this.waiting = false;
    this.pull();
  };

  private pull(): void {
    for (let chunk: Buffer | null; !this.destroyed && (chunk = this.req.read() as Buffer | null) !== null; ) {
      this.seen += chunk.length;
      if (this.maxBody > 0 && this.seen > this.maxBody) return this.overflow();
      if (!this.push(chunk)) return;
    }
    if (this.waiting || this.destroyed || this.req.readableEnded) return;
    this.waiting = true;
    this.req.once('readable', this.onReadable);
  }

  private overflow(): void {
    const res = this.res;
    if (!res.headersSent) {
      const { requestId, debug } = this.limits;
      const text = errorPageText(413, requestId, `the request body grew past max-body (${this.maxBody} bytes)`, debug);
      writeErrorPage(this.req, res, 413, text, { Connection: 'close' });
    } else {
      res.destroy(); // too late for a status: a cut connection tells the client
    }
    this.destroy(new Error(`request body larger than max-body (${this.maxBody} bytes)`));
  }
}
