// Builds the Koa app and the HTTP server around it. Thin: every rule lives in
// lib/ (resolve, environ, groups, worker); this file wires them in order.

import Koa, { type Context, type Next } from 'koa';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { clientView, trustListOf, type ClientView } from '../lib/proxy.js';
import type { Config } from '../lib/config.js';
import type { GroupManager } from '../lib/groups.js';
import { findInterpreter, type Interpreter } from '../lib/interpreter.js';
import { combinedLine, consoleLogger, type Logger } from '../lib/log.js';
import { ResolveCache } from '../lib/resolve-cache.js';
import { sendErrorPage } from './error-page.js';
import { runScript } from './scripts.js';
import { Lifecycle } from './lifecycle.js';
import { operatorPages } from './operator-pages.js';
import { Runtime } from './runtime.js';
import { staticSender } from './static-files.js';

export interface RunningServer {
  url: string;
  port: number;
  server: Server;
  interpreter: Interpreter;
  /** The current config and groups (replaced by reload()). */
  readonly runtime: Runtime;
  readonly groups: GroupManager;
  /** Graceful stop: no new connections, requests in flight finish (up to shutdown-grace), workers stop. */
  close(): Promise<void>;
  /** SIGHUP: serve with `config` from now on; workers of the old config finish their requests, then stop. */
  reload(config: Config): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
}

/**
 * Checks the interpreter, then listens. Rejects with InterpreterError when no
 * usable Python is found, or the listen error (EADDRINUSE...).
 */
export async function startPypages(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const log = options.log ?? consoleLogger();
  const interpreter = await findInterpreter(config.python);
  const holder = { runtime: await Runtime.create(config, interpreter.path, log) };
  const lifecycle = new Lifecycle(log);
  const app = buildApp(holder, lifecycle, log);
  const server = httpServer(config, app.callback());
  try {
    await listen(server, config.port, config.host);
  } catch (err) {
    await holder.runtime.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    url: `${config.cert ? 'https' : 'http'}://${host}:${port}/`,
    port,
    server,
    interpreter,
    get runtime() {
      return holder.runtime;
    },
    get groups() {
      return holder.runtime.groups;
    },
    close: () => lifecycle.shutdown(server, holder.runtime),
    reload: async (next: Config) => holder.runtime.reload(next, (await findInterpreter(next.python)).path),
  };
}

/** The Koa app. It reads `holder.runtime` per request, so a reload takes effect at the next request. */
export function buildApp(holder: { runtime: Runtime }, lifecycle: Lifecycle, log: Logger): Koa {
  const app = new Koa();
  app.use(accessLog(log));
  app.use(realClient(() => holder.runtime.config));
  app.use(lifecycle.track());
  app.use(errorPages(() => holder.runtime.config, log));
  app.use(operatorPages(holder, lifecycle));
  app.use(serveTargets(holder));
  app.on('error', (err: NodeJS.ErrnoException) => {
    // A client that hangs up mid-response is routine, not a server error.
    if (err.code === 'EPIPE' || err.code === 'ECONNRESET' || err.code === 'ERR_STREAM_PREMATURE_CLOSE') return;
    log.error(`koa: ${err.stack ?? err.message}`);
  });
  return app;
}

/** URL → page, file, redirect or error page. Its path memory and static sender follow config reloads. */
function serveTargets(holder: { runtime: Runtime }) {
  let builtFor: Config | null = null;
  let sendStatic: ReturnType<typeof staticSender>;
  let paths: ResolveCache;
  return async (ctx: Context) => {
    const { config, groups } = holder.runtime;
    if (builtFor !== config) {
      [sendStatic, paths, builtFor] = [staticSender(config.root), new ResolveCache(config.root, { index: config.index }), config];
    }
    const [rawPath, ...query] = originForm(ctx.req.url ?? '/').split('?');
    const target = await paths.resolve(rawPath, query.join('?'));
    switch (target.kind) {
      case 'script': return runScript(ctx, target, groups, config.root, config.debug, config.maxBody);
      case 'static':
        if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return methodNotAllowed(ctx, config.debug);
        return sendStatic(ctx, target.urlPath, target.file);
      case 'redirect':
        ctx.status = 301;
        ctx.redirect(target.location);
        return;
      case 'bad-request': return sendErrorPage(ctx, 400, target.reason, config.debug);
      case 'not-found': return sendErrorPage(ctx, 404, target.reason, config.debug);
    }
  };
}

/** "http://host/a?b" → "/a?b": HTTP/1.1 servers must accept the absolute form (RFC 9112 3.2.2). */
function originForm(url: string): string {
  const authority = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(url);
  if (!authority) return url;
  const rest = url.slice(authority[0].length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}

function methodNotAllowed(ctx: Context, debug: boolean): void {
  sendErrorPage(ctx, 405, `${ctx.method} is not allowed on a static file`, debug);
  ctx.set('Allow', 'GET, HEAD');
}

/**
 * Gives each request an id and writes its access-log line once both the
 * response is done and the app has finished with it (a client may leave
 * first: the line must still carry the final status).
 */
function accessLog(log: Logger) {
  let counter = 0;
  const prefix = randomBytes(3).toString('hex');
  return async (ctx: Context, next: Next) => {
    ctx.state.requestId = `${prefix}-${(++counter).toString(36)}`;
    ctx.state.log = log;
    const time = new Date();
    const requestLine = `${ctx.method} ${ctx.originalUrl} HTTP/${ctx.req.httpVersion}`;
    let closed = false;
    let handled = false;
    const write = () => {
      const bytes = ctx.respond === false ? (ctx.state.bytes as number) : ctx.response.length ?? null;
      const remote = (ctx.state.client as ClientView | undefined)?.remoteAddr || ctx.ip || '-';
      log.access(combinedLine({ remote, time, requestLine, status: ctx.res.statusCode, bytes, referer: ctx.get('Referer') || undefined, userAgent: ctx.get('User-Agent') || undefined }));
    };
    ctx.res.once('close', () => {
      closed = true;
      if (handled) write();
    });
    try {
      await next();
    } finally {
      handled = true;
      if (closed) write();
    }
  };
}

/** Anything thrown in the app becomes a logged 500 with the request id. */
function errorPages(config: () => Config, log: Logger) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (err) {
      const e = err as Error & { status?: number; expose?: boolean };
      const status = e.status && e.status >= 400 && e.status < 600 ? e.status : 500;
      if (status >= 500) log.error(`request ${ctx.state.requestId}: ${ctx.method} ${ctx.originalUrl}: ${e.stack ?? e.message}`);
      if (ctx.res.headersSent) return void ctx.res.destroy();
      sendErrorPage(ctx, status, e.message, config().debug);
    }
  };
}

/** Works out the real client once per request (lib/proxy.ts: trust-proxy), for the environ and the access log. */
function realClient(config: () => Config) {
  return async (ctx: Context, next: Next) => {
    const { remoteAddress, remotePort } = ctx.req.socket;
    const trust = trustListOf(config().trustProxy);
    ctx.state.client = clientView(trust, { peer: remoteAddress ?? '', peerPort: remotePort ?? 0, secure: ctx.secure, headers: ctx.req.headers });
    await next();
  };
}

/**
 * HTTPS when cert and key are set, else HTTP; heads over max-header-size get
 * Node's 431. With a 'checkContinue' listener Node leaves "100 Continue" to
 * us: server/request-body.ts sends it when the page first reads the body.
 */
function httpServer(config: Config, handler: RequestListener): Server {
  // requestTimeout 0: Node's default (300 s) would cut a slow but live upload;
  // headersTimeout (60 s) still ends connections that never finish their head.
  const options = { maxHeaderSize: config.maxHeaderSize, requestTimeout: 0 };
  const server = config.cert
    ? createTlsServer({ ...options, cert: readFileSync(config.cert), key: readFileSync(config.key) }, handler)
    : createServer(options, handler);
  server.on('checkContinue', handler);
  return server;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
