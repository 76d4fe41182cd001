// What the server knows about each request before any handler runs (its id,
// arrival time and real client), and the access-log line written once the
// request is over. Shared by the script path (lib/http/page-request.ts) and Koa.

import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { combinedLine, type Logger } from '../util/log.js';
import { clientView, type ClientView, type TrustList } from './proxy.js';

export interface RequestInfo {
  /** In the error page and every log line about this request. */
  readonly id: string;
  readonly time: Date;
  /** The client as believed through trusted proxies (lib/http/proxy.ts: trust-proxy). */
  readonly client: ClientView;
  /** Body bytes sent, when a handler counted them itself (a page's response); else Content-Length is logged. */
  bytes: number | null;
}

export class AccessLog {
  private counter = 0;
  private readonly prefix = randomBytes(3).toString('hex');

  constructor(private readonly log: Logger) {}

  /** Gives the request its id and works out the real client. */
  begin(req: IncomingMessage, trust: TrustList): RequestInfo {
    const { remoteAddress, remotePort, encrypted } = req.socket as TLSSocket;
    const client = clientView(trust, { peer: remoteAddress ?? '', peerPort: remotePort ?? 0, secure: encrypted === true, headers: req.headers });
    return { id: `${this.prefix}-${(++this.counter).toString(36)}`, time: new Date(), client, bytes: null };
  }

  /**
   * Writes the request's line once both `handled` has settled and the
   * returned function has been called (the response has closed): a client may
   * leave first, and the line must still carry the final status.
   */
  record(req: IncomingMessage, res: ServerResponse, info: RequestInfo, handled: Promise<unknown>): () => void {
    let pending = 2;
    const write = () => {
      if (--pending === 0) this.write(req, res, info);
    };
    handled.then(write, write);
    return write;
  }

  private write(req: IncomingMessage, res: ServerResponse, info: RequestInfo): void {
    const declared = res.getHeader('content-length');
    const bytes = info.bytes ?? (declared === undefined ? null : Number(declared));
    const header = (name: string) => (req.headers[name] as string | undefined) || undefined;
    this.log.access(combinedLine({
      remote: info.client.remoteAddr || '-',
      time: info.time,
      requestLine: `${req.method} ${req.url} HTTP/${req.httpVersion}`,
      status: res.statusCode,
      bytes,
      referer: header('referer'),
      userAgent: header('user-agent'),
    }));
  }
}
