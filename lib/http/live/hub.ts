// Live reload's server side: the pages connected by EventSource (Server-Sent
// Events on LIVE_PATH, the same server and port), and what each depends on:
// its own file (a script, a static page, or the folder a listing shows), the
// modules the script's workers imported (their WATCH lists), and the files it
// reported loading. Every 300 ms, while pages are connected, each file is
// stat'ed once: one changed after the page was served (its mtime or ctime
// later than the time the page names) reloads the page; a stylesheet is
// swapped in place instead. Polling a few files per page, rather than
// watching the document root, costs nothing when no page is open and never
// walks a big folder (a venv, node_modules).

import { statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Site } from '../../site/site.js';
import type { Logger } from '../../util/log.js';
import { watchClient } from '../client-timeouts.js';
import type { Target } from '../resolve.js';
import { MAX_REPORTED } from './client.js';

/** Pages connected at once, at most: each holds a connection and is checked every tick. */
export const MAX_CLIENTS = 32;
const TICK_MS = 300;
const HEARTBEAT_TICKS = 50; // a comment line every 15 s keeps proxies and the client's idle timers quiet
// File times come from the kernel's coarse clock, up to one tick (10 ms at
// HZ=100) behind Date.now(): an edit made just after a page was served can
// carry an earlier mtime. A change this close before `since` counts, at worst
// costing one extra reload of a page served just after an edit.
const FILE_CLOCK_LAG_MS = 10;

interface Client {
  readonly res: ServerResponse;
  readonly site: Site;
  readonly page: { file: string; script: boolean } | null;
  /** Reported files: real path → URL path. */
  readonly files: Map<string, string>;
  readonly since: number;
  /** A stylesheet's change already sent: real path → its change time. */
  readonly notified: Map<string, number>;
  done: boolean;
}

/** What a connecting page's request knows: its site, how its URLs resolve there, its id for the log. */
export interface LiveRequest {
  site: Site;
  lookup: (urlPath: string) => Target;
  requestId: string;
}

export class LiveHub {
  private readonly clients = new Set<Client>();
  private timer: NodeJS.Timeout | null = null;
  private ticks = 0;
  private closed = false;
  /** Changes when the server restarts: a page that sees another id reloads. */
  readonly serverId = `${process.pid}.${Date.now().toString(36)}`;

  /** `imported(site, script)`: the files the workers of `script` imported (lib/groups/registry.ts). */
  constructor(
    private readonly imported: (site: Site, script: string) => readonly string[],
    private readonly log: Logger,
    private readonly maxClients = MAX_CLIENTS,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  /** Answers an EventSource request: an event stream held open until the page goes, or 503 when full or closing. */
  connect(req: IncomingMessage, res: ServerResponse, live: LiveRequest): void {
    if (this.closed || this.clients.size >= this.maxClients) {
      const why = this.closed ? 'the server is stopping' : `${this.maxClients} pages are connected already`;
      if (!this.closed) this.log.info(`request ${live.requestId}: live reload refused: ${why}`);
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
      return void res.end(`live reload: ${why}\n`);
    }
    const client = clientOf(req, res, live);
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
    res.write(`retry: 1000\n\n${event('hello', { server: this.serverId })}`);
    // Silence on this stream is the server's, not the client's: client-timeout must not cut it.
    watchClient(res);
    this.clients.add(client);
    res.on('close', () => this.drop(client));
    // The server keeps half-closed connections open (a FIN may be a half-close); a page never half-closes.
    req.socket.once('end', () => res.destroy());
    this.timer ??= setInterval(() => this.tick(), TICK_MS).unref();
  }

  /** Ends every stream (the pages reconnect to the next server); no more are taken. */
  close(): void {
    this.closed = true;
    for (const client of [...this.clients]) client.res.end();
    this.clients.clear();
    this.stop();
  }

  private drop(client: Client): void {
    this.clients.delete(client);
    if (this.clients.size === 0) this.stop();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private tick(): void {
    const known = new Map<string, number>();
    const changedAt = (file: string) => {
      let t = known.get(file);
      if (t === undefined) known.set(file, (t = changeTime(file)));
      return t;
    };
    const beat = ++this.ticks % HEARTBEAT_TICKS === 0;
    for (const client of this.clients) {
      if (!client.done) this.check(client, changedAt);
      if (beat && !client.done) client.res.write(': \n\n');
    }
  }

  private check(client: Client, changedAt: (file: string) => number): void {
    const { page, site } = client;
    const own = page ? [page.file, ...(page.script ? this.imported(site, page.file) : [])] : [];
    const changed = own.find((file) => changedAt(file) > client.since);
    if (changed !== undefined) return this.reload(client, changed);
    for (const [file, urlPath] of client.files) {
      const t = changedAt(file);
      if (t <= (client.notified.get(file) ?? client.since)) continue;
      if (!file.endsWith('.css')) return this.reload(client, file);
      client.notified.set(file, t);
      client.res.write(event('css', { path: urlPath }));
    }
  }

  private reload(client: Client, file: string): void {
    client.done = true;
    const shown = file.startsWith(client.site.root) ? file.slice(client.site.root.length) : file;
    client.res.write(event('reload', { file: shown }));
  }
}

function clientOf(req: IncomingMessage, res: ServerResponse, live: LiveRequest): Client {
  const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
  const since = Number(query.get('since'));
  const files = new Map<string, string>();
  for (const urlPath of query.getAll('file').slice(0, MAX_REPORTED)) {
    const target = live.lookup(urlPath);
    if (target.kind === 'static' || target.kind === 'script') files.set(target.file, urlPath);
  }
  return {
    res,
    site: live.site,
    page: pageOf(live.lookup(query.get('page') ?? '/')),
    files,
    since: (Number.isFinite(since) ? since : Date.now()) - FILE_CLOCK_LAG_MS,
    notified: new Map(),
    done: false,
  };
}

/** The file a page was made from: a script, a static file, or the folder its listing shows. */
function pageOf(target: Target): { file: string; script: boolean } | null {
  if (target.kind === 'script' || target.kind === 'static')
    return { file: target.file, script: target.kind === 'script' };
  if (target.kind === 'not-found' && target.folder) return { file: target.folder, script: false };
  return null;
}

/** When `file` last changed (its content or its entry: mtime or ctime, ms); Infinity once it is gone. */
function changeTime(file: string): number {
  try {
    const s = statSync(file, { throwIfNoEntry: false });
    return s ? Math.max(s.mtimeMs, s.ctimeMs) : Number.POSITIVE_INFINITY;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

function event(name: string, data: object): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}
