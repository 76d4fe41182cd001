// Builds the Koa app and the HTTP server around it. Thin: every rule lives in
// lib/ (resolve, environ, groups, worker); this file wires them in order.

import Koa, { type Context, type Next } from 'koa';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { framingProblem } from '../lib/http/framing.js';
import { trustListOf } from '../lib/http/proxy.js';
import type { Config } from '../lib/config/config.js';
import type { GroupManager } from '../lib/groups/registry.js';
import { findInterpreter, type Interpreter } from '../lib/groups/interpreter.js';
import { consoleLogger, type Logger } from '../lib/util/log.js';
import type { Target } from '../lib/http/resolve.js';
import { ResolveCache } from '../lib/http/resolve-cache.js';
import { AccessLog, type RequestInfo } from '../lib/http/access-log.js';
import { applyClientTimeouts } from '../lib/http/client-timeouts.js';
import { answerClientErrors, trackResponse } from '../lib/http/connections.js';
import { errorPageText, sendErrorPage, writeErrorPage } from '../lib/http/error-page.js';
import { runScript } from '../lib/http/page-request.js';
import { Lifecycle } from './lifecycle.js';
import { operatorPages } from './operator-pages.js';
import { Runtime } from './runtime.js';
import { staticSender } from '../lib/http/static/send.js';

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
  /** A bound socket to listen on (the supervisor's, server/listen-handle.ts) instead of binding config.host:config.port. */
  handle?: object;
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
  const server = httpServer(config, buildHandler(holder, lifecycle, log));
  try {
    await listen(server, options.handle ?? { port: config.port, host: config.host });
  } catch (err) {
    await holder.runtime.close();
    throw err;
  }
  // After the bind, errors here are the accept loop's (EMFILE when out of file descriptors): Node retries.
  server.on('error', (err) => log.error(`listening socket: ${err.message}`));
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

/**
 * The request listener. Page requests, the bulk of the traffic, go straight
 * to lib/http/page-request.ts on node:http's objects: a Koa context, its middleware
 * chain and their promises cost more than the rest of Node's share of a
 * hello-world request. Koa serves everything else (static files, redirects,
 * error pages, the operator pages). Both get the same request id, client,
 * access-log line and in-flight count, and each config (a reload replaces it)
 * gets its own path memory.
 */
export function buildHandler(holder: { runtime: Runtime }, lifecycle: Lifecycle, log: Logger): RequestListener {
  const koa = buildKoa(holder, lifecycle, log).callback();
  const accessLog = new AccessLog(log);
  const pathsFor = perConfig((config) => new ResolveCache(config.root, { index: config.index }));
  return (req, res) => {
    const info = accessLog.begin(req, trustListOf(holder.runtime.config.trustProxy));
    guard(req, res, info.id, log);
    const done = lifecycle.track();
    const handled = route(req, res, info);
    const logged = accessLog.record(req, res, info, handled);
    trackResponse(req, res, () => {
      done();
      logged();
    });
  };

  function route(req: IncomingMessage, res: ServerResponse, info: RequestInfo): Promise<unknown> {
    const { config, groups } = holder.runtime;
    const refused = framingProblem(req.httpVersion, req.rawHeaders);
    if (refused) {
      // Refused before any handler, the operator pages included; its framing cannot be trusted: closed after.
      writeErrorPage(req, res, refused.status, errorPageText(refused.status, info.id, refused.reason, config.debug), { Connection: 'close' });
      return Promise.resolve();
    }
    const { target, urlPath } = targetOf(req, pathsFor(config));
    // The operator pages come first (in Koa), and decide for themselves (status-allow).
    const operator = urlPath === config.healthPath || urlPath === config.statusPath;
    if (target.kind === 'script' && !operator) return runScript(req, res, target, info, { config, groups, log });
    requests.set(req, { info, target });
    return koa(req, res);
  }
}

/**
 * The rule for every object a client, a page or the system can break: its
 * 'error' is handled from the moment it exists, and an error ends that
 * request (logged with its id), never the process. Node reports a late write
 * to a response as an 'error' event, and a request stream's errors too.
 */
function guard(req: IncomingMessage, res: ServerResponse, requestId: string, log: Logger): void {
  req.on('error', () => {}); // the client went away: 'close' tells whoever reads the body
  res.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') log.error(`request ${requestId}: response error: ${err.message}; closing the connection`);
    res.destroy();
  });
}

/** What the URL names. */
function targetOf(req: IncomingMessage, paths: ResolveCache): { target: Target; urlPath: string } {
  const url = originForm(req.url ?? '/');
  const queryAt = url.indexOf('?');
  const urlPath = queryAt === -1 ? url : url.slice(0, queryAt);
  return { target: paths.resolve(urlPath, queryAt === -1 ? '' : url.slice(queryAt + 1)), urlPath };
}

/** What the listener learnt about a request that it hands to Koa. */
const requests = new WeakMap<IncomingMessage, { info: RequestInfo; target: Target }>();

/** Koa, for everything but page requests. It reads `holder.runtime` per request, so a reload takes effect at the next one. */
function buildKoa(holder: { runtime: Runtime }, lifecycle: Lifecycle, log: Logger): Koa {
  const app = new Koa();
  app.use((ctx, next) => {
    const { info } = requests.get(ctx.req)!;
    Object.assign(ctx.state, { requestId: info.id, client: info.client, log });
    return next();
  });
  app.use(errorPages(() => holder.runtime.config, log));
  app.use(operatorPages(holder, lifecycle));
  app.use(serveTargets(holder, log));
  app.on('error', (err: NodeJS.ErrnoException) => {
    // A client that hangs up mid-response is routine, not a server error.
    if (err.code === 'EPIPE' || err.code === 'ECONNRESET' || err.code === 'ERR_STREAM_PREMATURE_CLOSE') return;
    log.error(`koa: ${err.stack ?? err.message}`);
  });
  return app;
}

/** One value per config, rebuilt when a reload replaces the config. */
function perConfig<T>(build: (config: Config) => T): (config: Config) => T {
  let builtFor: Config | null = null;
  let value: T;
  return (config) => {
    if (builtFor !== config) [value, builtFor] = [build(config), config];
    return value;
  };
}

/** Target → file, redirect or error page (a page, when an operator path that was not for this client names one). */
function serveTargets(holder: { runtime: Runtime }, log: Logger) {
  const senderFor = perConfig((config) => staticSender(config.root));
  return async (ctx: Context) => {
    const { config, groups } = holder.runtime;
    const { info, target } = requests.get(ctx.req)!;
    switch (target.kind) {
      case 'script':
        ctx.respond = false;
        return runScript(ctx.req, ctx.res, target, info, { config, groups, log });
      case 'static':
        if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return methodNotAllowed(ctx, config.debug);
        return senderFor(config)(ctx, target.urlPath, target.file);
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
  if (url.charCodeAt(0) === 47 /* / */) return url;
  const authority = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(url);
  if (!authority) return url;
  const rest = url.slice(authority[0].length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}

function methodNotAllowed(ctx: Context, debug: boolean): void {
  sendErrorPage(ctx, 405, `${ctx.method} is not allowed on a static file`, debug);
  ctx.set('Allow', 'GET, HEAD');
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

/**
 * HTTPS when cert and key are set, else HTTP; heads over max-header-size get
 * Node's 431. With a 'checkContinue' listener Node leaves "100 Continue" to
 * us: lib/http/body/limits.ts sends it when the page first reads the body.
 */
function httpServer(config: Config, handler: RequestListener): Server {
  // Heads not complete within client-timeout get 408; checked every second (Node's default is 30 s).
  const options = { maxHeaderSize: config.maxHeaderSize, requestTimeout: 0, headersTimeout: config.clientTimeout * 1000, connectionsCheckingInterval: 1000 };
  const server = config.cert
    ? createTlsServer({ ...options, cert: readFileSync(config.cert), key: readFileSync(config.key) }, handler)
    : createServer(options, handler);
  server.on('checkContinue', handler);
  applyClientTimeouts(server, config.clientTimeout, config.keepAliveTimeout);
  answerClientErrors(server);
  // A client that half-closes after its request (shutdown(SHUT_WR), nc -N, some health checkers)
  // still gets its answer, as from Apache; without this Node drops the request at the FIN. A
  // client that closes for good also sends only a FIN, so its complete request still runs (a
  // reset, or a FIN before the request is complete, ends it). Node's own switch (undocumented,
  // but what its HTTP server reads); test/integration/http-strict.test.ts pins it.
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  return server;
}

/** `target`: { port, host } to bind, or a bound socket handle. */
function listen(server: Server, target: object): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(target, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
