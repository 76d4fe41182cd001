// What the server knows about each request before any handler runs (its id,
// arrival time and real client), and the access-log line written once the
// request is over, in Apache's combined format. Shared by the page requests
// (./page-request.ts) and Koa.

import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { colourFor, devAccessLine } from '../util/dev-terminal.js';
import type { Logger } from '../util/log.js';
import { clientView, type ClientView, type TrustList } from './proxy.js';

export interface RequestInfo {
  /** In the error page and every log line about this request. */
  readonly id: string;
  readonly time: Date;
  /** The client as believed through trusted proxies (lib/http/proxy.ts: trust-proxy). */
  readonly client: ClientView;
  /** Body bytes sent, when a handler counted them itself (a page's response); else Content-Length is logged. */
  bytes: number | null;
  /** performance.now() at arrival, for the time taken (%D). */
  readonly started: number;
  /** Its site's access log, name and format, once the site is known; else the server's log, combined. */
  site: { readonly log: Logger; readonly name: string; readonly vhost: boolean; readonly console: boolean } | null;
}

export class AccessLog {
  private counter = 0;
  private readonly prefix = randomBytes(3).toString('hex');

  /** `dev()`: whether development mode's short line (lib/util/dev-terminal.ts) replaces the combined one. */
  constructor(
    private readonly log: Logger,
    private readonly dev: () => boolean = () => false,
  ) {}

  /** Gives the request its id and works out the real client. */
  begin(req: IncomingMessage, trust: TrustList): RequestInfo {
    const { remoteAddress, remotePort, encrypted } = req.socket as TLSSocket;
    const client = clientView(trust, {
      peer: remoteAddress ?? '',
      peerPort: remotePort ?? 0,
      secure: encrypted === true,
      headers: req.headers,
    });
    const id = `${this.prefix}-${(++this.counter).toString(36)}`;
    return { id, time: new Date(), client, bytes: null, started: performance.now(), site: null };
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
    // Development mode's short line is for the terminal: a site whose access log is a file, or in
    // vhost-combined, keeps the format its readers parse.
    const toTerminal = !info.site || (info.site.console && !info.site.vhost);
    if (this.dev() && toTerminal) return this.log.access(devLine(req, res, info));
    const declared = res.getHeader('content-length');
    const bytes = info.bytes ?? (declared === undefined ? null : Number(declared));
    const header = (name: string) => (req.headers[name] as string | undefined) || undefined;
    const { site } = info;
    const vhost = site?.vhost ? ` ${site.name} ${Math.round((performance.now() - info.started) * 1000)}` : '';
    (site?.log ?? this.log).access(
      combinedLine({
        remote: info.client.remoteAddr || '-',
        time: info.time,
        requestLine: `${req.method} ${req.url} HTTP/${req.httpVersion}`,
        status: res.statusCode,
        bytes,
        referer: header('referer'),
        userAgent: header('user-agent'),
      }) + vhost,
    );
  }
}

function devLine(req: IncomingMessage, res: ServerResponse, info: RequestInfo): string {
  const facts = { time: info.time, status: res.statusCode, method: req.method ?? '', url: req.url ?? '' };
  return devAccessLine(
    { ...facts, ms: Date.now() - info.time.getTime(), requestId: info.id },
    colourFor(process.stdout),
  );
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

let lastSecond = NaN;
let lastTime = '';

/** Apache's %t: [10/Oct/2000:13:55:36 +0000] (always UTC). Formatted once per second: one line per request calls it. */
export function clfTime(d: Date): string {
  const second = Math.floor(d.getTime() / 1000);
  if (second !== lastSecond) [lastSecond, lastTime] = [second, formatClfTime(d)];
  return lastTime;
}

function formatClfTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `[${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000]`;
}

export interface AccessFacts {
  remote: string;
  time: Date;
  requestLine: string;
  status: number;
  bytes: number | null;
  referer: string | undefined;
  userAgent: string | undefined;
}

/** Printable ASCII without quote or backslash: logged as it is, without escaping. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** Quoted with control characters (C0, DEL, C1) escaped (\\xHH, as Apache writes them): a header cannot forge a line. */
function escaped(s: string): string {
  return JSON.stringify(s).replace(
    /\\u00([0-9a-f]{2})|[\x7f-\x9f]/g,
    (c, hex: string | undefined) => `\\x${hex ?? c.charCodeAt(0).toString(16)}`,
  );
}

/** One line of Apache's combined log format. */
export function combinedLine(f: AccessFacts): string {
  const quote = (s: string | undefined) => (s === undefined ? '"-"' : PLAIN.test(s) ? `"${s}"` : escaped(s));
  return `${f.remote} - - ${clfTime(f.time)} ${quote(f.requestLine)} ${f.status} ${f.bytes ? f.bytes : '-'} ${quote(f.referer)} ${quote(f.userAgent)}`;
}
