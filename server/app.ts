// Assembles the server: checks Python, builds the runtime (sites, groups,
// launcher), the request listener with the Koa app and the operator pages,
// and the HTTP(S) server around them, and listens. Thin: every request rule
// lives in lib/ (lib/http/listener.ts is where a request arrives).

import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../lib/config/config.js';
import { devModeOn } from '../lib/config/dev-mode.js';
import { findInterpreter, type Interpreter } from '../lib/groups/interpreter.js';
import type { GroupRegistry } from '../lib/groups/registry.js';
import { applyClientTimeouts } from '../lib/http/client-timeouts.js';
import { answerClientErrors } from '../lib/http/connections.js';
import { FIELDS_KEPT } from '../lib/http/framing.js';
import { koaApp } from '../lib/http/koa-app.js';
import { requestListener } from '../lib/http/listener.js';
import type { Metrics } from '../lib/metrics/metrics.js';
import { LiveHub } from '../lib/http/live/hub.js';
import { liveEndpoint } from '../lib/http/live/live.js';
import { consoleLogger, type Logger } from '../lib/util/log.js';
import { AutoCertificates } from '../lib/tls/certificates.js';
import { certificateNames } from '../lib/tls/names.js';
import { CertificateStore } from '../lib/tls/store.js';
import { plainListener, secureServer, tlsMode } from './https.js';
import { Lifecycle } from './lifecycle.js';
import { operatorPages } from './operator-pages.js';
import { Runtime } from './runtime.js';

export interface RunningServer {
  url: string;
  port: number;
  server: Server;
  /** The plain-HTTP port beside HTTPS (http-port), or null when it is not open. */
  httpPort: number | null;
  /** tls: auto's certificates, or null. */
  certificates: AutoCertificates | null;
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
 *
 * On the supervisor's socket, plain HTTP listens first: the socket is bound
 * but not yet listening until a server child listens on it, and the Python
 * probe and the runtime take the better part of a second, in which a
 * connection would be refused. Requests that come meanwhile wait in a latch
 * and run once the runtime is built. (TLS keeps the old order: its
 * certificates need the runtime.)
 */
export async function startPypages(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const log = options.log ?? consoleLogger({ dev: devModeOn(config) });
  const latch = requestLatch();
  const early = options.handle && tlsMode(config) === 'off' ? httpServer(config, latch.listener, null) : null;
  if (early) await listen(early, options.handle!);
  try {
    return await assemble(config, { options, log, early, latch });
  } catch (err) {
    early?.close();
    throw err;
  }
}

interface Assembly {
  options: StartOptions;
  log: Logger;
  /** The server already listening on the supervisor's socket, or null. */
  early: Server | null;
  latch: ReturnType<typeof requestLatch>;
}

async function assemble(config: Config, { options, log, early, latch }: Assembly): Promise<RunningServer> {
  const interpreter = await findInterpreter(config.python);
  const metrics = await metricsFor(config, () => holder.runtime.groups.status());
  const holder: { runtime: Runtime } = {
    runtime: await Runtime.create(config, interpreter.path, log, metrics ?? undefined),
  };
  const lifecycle = new Lifecycle(log);
  const handler = buildHandler(holder, lifecycle, log, metrics);
  const certificates = config.tls === 'auto' ? autoCertificates(config, holder, log) : null;
  const server = early ?? httpServer(config, handler, certificates);
  const companion = companionOf(config, server, handler, certificates);
  try {
    if (!early) await listen(server, options.handle ?? { port: config.port, host: config.host });
    if (companion) await listen(companion, { port: config.httpPort, host: config.host });
  } catch (err) {
    certificates?.close();
    server.close();
    await holder.runtime.close();
    throw err;
  }
  latch.open(handler);
  // After the bind, errors here are the accept loop's (EMFILE when out of file descriptors): Node retries.
  for (const s of [server, companion]) s?.on('error', (err) => log.error(`listening socket: ${err.message}`));
  certificates?.start();
  return running(config, { server, companion, certificates }, interpreter, holder, lifecycle);
}

/** The plain-HTTP server beside HTTPS (ACME challenges, redirect-http), or null. */
function companionOf(
  config: Config,
  server: Server,
  handler: RequestListener,
  certificates: AutoCertificates | null,
): Server | null {
  if (tlsMode(config) === 'off' || !(certificates || config.redirectHttp)) return null;
  const httpsPort = () => (server.address() as AddressInfo).port;
  return httpServer(config, plainListener(config, httpsPort, handler, certificates), null, false);
}

/** A request listener that holds requests until open(handler), then passes them (and every later one) to it. */
function requestLatch(): { listener: RequestListener; open(handler: RequestListener): void } {
  let target: RequestListener | null = null;
  const waiting: [IncomingMessage, ServerResponse][] = [];
  return {
    listener: (req, res) => (target ? target(req, res) : void waiting.push([req, res])),
    open(handler) {
      target = handler;
      for (const [req, res] of waiting.splice(0)) handler(req, res);
    },
  };
}

/** The metrics of metrics-path, or null: prom-client (and what it loads) only for a server that serves them. */
async function metricsFor(config: Config, groups: ConstructorParameters<typeof Metrics>[0]): Promise<Metrics | null> {
  if (!config.metricsPath) return null;
  return new (await import('../lib/metrics/metrics.js')).Metrics(groups);
}

/** tls: auto's certificates, for the names of the sites being served (read again at every check: reload changes them). */
function autoCertificates(config: Config, holder: { runtime: Runtime }, log: Logger): AutoCertificates {
  const names = () => certificateNames(holder.runtime.sites, holder.runtime.config.host);
  const { names: first, skipped } = names();
  if (skipped.length) log.error(`tls: no certificate for ${skipped.join(', ')}: HTTP-01 cannot prove a wildcard name`);
  if (!first.length)
    log.error('tls: auto has no host name to get a certificate for: give host a DNS name, or sites their hosts');
  return new AutoCertificates({
    directoryUrl: config.acmeDirectory,
    email: config.acmeEmail,
    caFile: config.acmeCa,
    store: new CertificateStore(config.stateDir),
    names: () => names().names,
    renewBeforeMs: config.acmeRenewBefore * 1000,
    httpPort: config.httpPort,
    log,
  });
}

interface Servers {
  server: Server;
  /** The plain-HTTP port beside HTTPS (http-port), when open. */
  companion: Server | null;
  certificates: AutoCertificates | null;
}

function running(
  config: Config,
  { server, companion, certificates }: Servers,
  interpreter: Interpreter,
  holder: { runtime: Runtime },
  lifecycle: Lifecycle,
): RunningServer {
  const port = (server.address() as AddressInfo).port;
  return {
    url: urlOf(config, port),
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
    httpPort: companion ? (companion.address() as AddressInfo).port : null,
    certificates,
    close: () => stop({ server, companion, certificates }, lifecycle, holder.runtime),
    reload: (next: Config) => reload(next, holder.runtime, certificates),
  };
}

async function reload(next: Config, runtime: Runtime, certificates: AutoCertificates | null): Promise<void> {
  await runtime.reload(next, (await findInterpreter(next.python)).path);
  void certificates?.check(); // new sites may name new hosts
}

/** The URL the server answers at, for the banner. */
function urlOf(config: Config, port: number): string {
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return `${tlsMode(config) === 'off' ? 'http' : 'https'}://${host}:${port}/`;
}

async function stop(
  { server, companion, certificates }: Servers,
  lifecycle: Lifecycle,
  runtime: Runtime,
): Promise<void> {
  certificates?.close();
  companion?.close();
  companion?.closeAllConnections();
  await lifecycle.shutdown(server, runtime);
}

/**
 * The request listener (lib/http/listener.ts) with the Koa app behind it,
 * the operator pages first in it. Both read `holder.runtime` per request, so
 * a reload takes effect at the next one. `metrics`: counted and served when
 * metrics-path was set at start.
 */
export function buildHandler(
  holder: { runtime: Runtime },
  lifecycle: Lifecycle,
  log: Logger,
  metrics: Metrics | null = null,
): RequestListener {
  const serving = () => holder.runtime;
  const live = new LiveHub((site, script) => holder.runtime.groups.watchedBy(site, script), log);
  lifecycle.onShutdown(
    () => live.close(),
    () => live.size,
  );
  const koa = koaApp(serving, [operatorPages(holder, lifecycle, metrics), liveEndpoint(live)], log).callback();
  return requestListener({ serving, track: (res) => lifecycle.track(res), others: koa, log, metrics });
}

/**
 * HTTPS (HTTP/2 and HTTP/1.1: ./https.ts) when TLS is on and `secure`, else
 * HTTP; heads over max-header-size get Node's 431. With a 'checkContinue'
 * listener Node leaves "100 Continue" to us: lib/http/body/limits.ts sends
 * it when the page first reads the body.
 */
function httpServer(
  config: Config,
  handler: RequestListener,
  certificates: AutoCertificates | null,
  secure = tlsMode(config) !== 'off',
): Server {
  // Heads not complete within client-timeout get 408; checked every second (Node's default is 30 s).
  const options = {
    maxHeaderSize: config.maxHeaderSize,
    requestTimeout: 0,
    headersTimeout: config.clientTimeout * 1000,
    connectionsCheckingInterval: 1000,
  };
  const server = secure ? secureServer(config, options, handler, certificates) : createServer(options, handler);
  server.on('checkContinue', handler);
  server.maxHeadersCount = FIELDS_KEPT; // the listener refuses more than max-header-fields of them
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
