// Assembles the server: checks Python, builds the runtime (sites, groups,
// launcher), the request listener with the Koa app and the operator pages,
// and the HTTP(S) server around them, and listens. Thin: every request rule
// lives in lib/ (lib/http/listener.ts is where a request arrives).

import { readFileSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Config } from '../lib/config/config.js';
import { devModeOn } from '../lib/config/dev-mode.js';
import { findInterpreter, type Interpreter } from '../lib/groups/interpreter.js';
import type { GroupRegistry } from '../lib/groups/registry.js';
import { applyClientTimeouts } from '../lib/http/client-timeouts.js';
import { answerClientErrors } from '../lib/http/connections.js';
import { koaApp } from '../lib/http/koa-app.js';
import { requestListener } from '../lib/http/listener.js';
import { LiveHub } from '../lib/http/live/hub.js';
import { liveEndpoint } from '../lib/http/live/live.js';
import { consoleLogger, type Logger } from '../lib/util/log.js';
import { Lifecycle } from './lifecycle.js';
import { operatorPages } from './operator-pages.js';
import { Runtime } from './runtime.js';

export interface RunningServer {
  url: string;
  port: number;
  server: Server;
  interpreter: Interpreter;
  /** The current config, sites and groups (replaced by reload()). */
  readonly runtime: Runtime;
  readonly groups: GroupRegistry;
  /** Requests in flight now. */
  readonly inflight: number;
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
  const log = options.log ?? consoleLogger({ dev: devModeOn(config) });
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
  return running(config, server, interpreter, holder, lifecycle);
}

function running(
  config: Config,
  server: Server,
  interpreter: Interpreter,
  holder: { runtime: Runtime },
  lifecycle: Lifecycle,
): RunningServer {
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
    get inflight() {
      return lifecycle.working;
    },
    close: () => lifecycle.shutdown(server, holder.runtime),
    reload: async (next: Config) => holder.runtime.reload(next, (await findInterpreter(next.python)).path),
  };
}

/**
 * The request listener (lib/http/listener.ts) with the Koa app behind it,
 * the operator pages first in it. Both read `holder.runtime` per request, so
 * a reload takes effect at the next one.
 */
export function buildHandler(holder: { runtime: Runtime }, lifecycle: Lifecycle, log: Logger): RequestListener {
  const serving = () => holder.runtime;
  const live = new LiveHub((site, script) => holder.runtime.groups.watchedBy(site, script), log);
  lifecycle.onShutdown(
    () => live.close(),
    () => live.size,
  );
  const koa = koaApp(serving, [operatorPages(holder, lifecycle), liveEndpoint(live)], log).callback();
  return requestListener({ serving, track: () => lifecycle.track(), others: koa, log });
}

/**
 * HTTPS when cert and key are set, else HTTP; heads over max-header-size get
 * Node's 431. With a 'checkContinue' listener Node leaves "100 Continue" to
 * us: lib/http/body/limits.ts sends it when the page first reads the body.
 */
function httpServer(config: Config, handler: RequestListener): Server {
  // Heads not complete within client-timeout get 408; checked every second (Node's default is 30 s).
  const options = {
    maxHeaderSize: config.maxHeaderSize,
    requestTimeout: 0,
    headersTimeout: config.clientTimeout * 1000,
    connectionsCheckingInterval: 1000,
  };
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
