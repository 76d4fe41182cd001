// The request listener: where every request arrives. In order: the guard
// (every 'error' handled from the start), the request's id, client and
// access-log line, the framing check (RFC 9112 rules Node lets through),
// the request → site step, the URL → target step, then the page request
// (./page-request.ts) or, for everything else, the Koa app (./koa-app.ts).
//
// Page requests, the bulk of the traffic, run on node:http's objects
// directly: a Koa context, its middleware chain and their promises cost more
// than the rest of Node's share of a hello-world request. Both paths get the
// same request id, client, access-log line and in-flight count.

import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Config } from '../config/config.js';
import { devModeOn } from '../config/dev-mode.js';
import type { GroupRegistry } from '../groups/registry.js';
import { perSite, type Site, type Sites } from '../site/site.js';
import type { Metrics } from '../metrics/metrics.js';
import { inFolder, resolveOptions } from '../site/overrides.js';
import { pathInSite, prefixRedirect, targetInSite } from '../site/userdir.js';
import type { Logger } from '../util/log.js';
import { AccessLog, type RequestInfo } from './access-log.js';
import { trackResponse } from './connections.js';
import { errorPageText, writeErrorPage } from './error-page.js';
import { framingProblem } from './framing.js';
import { hostFromAuthority, isHttp2 } from './h2.js';
import { runScript } from './page-request.js';
import { addLiveReload, isLivePath } from './live/live.js';
import { trustListOf } from './proxy.js';
import { ResolveCache } from './resolve-cache.js';
import type { Target } from './resolve.js';

/** What requests are served with, read once per request: a reload replaces it. */
export interface Serving {
  /** For the server-wide settings: trust-proxy, the operator pages' paths. */
  readonly config: Config;
  readonly sites: Sites;
  readonly groups: GroupRegistry;
  /** A site's logger: its access-log and error-log files. */
  logFor(site: Site): Logger;
}

export interface ListenerOptions {
  serving(): Serving;
  /** Counts a request in flight until the returned function is called; `res` lets draining close its connection. */
  track(res: ServerResponse): () => void;
  /** Everything but page requests: static files, redirects, error and operator pages (the Koa app's callback). */
  others(req: IncomingMessage, res: ServerResponse): Promise<unknown>;
  log: Logger;
  /** Counts each request by site and group (metrics-path), or null. */
  metrics?: Metrics | null;
}

/** What the listener learnt about a request it hands to `others`. */
export interface Routed {
  readonly info: RequestInfo;
  readonly target: Target;
  readonly site: Site;
  /** What a URL path names in this site now (for live reload's reported files). */
  readonly lookup: (urlPath: string) => Target;
}

const routes = new WeakMap<IncomingMessage, Routed>();

/** The facts the listener settled for a request passed to `others`. */
export function routed(req: IncomingMessage): Routed {
  return routes.get(req)!;
}

/** The listener of the HTTP server. Each site gets its own path memory (ResolveCache), made at its first request. */
export function requestListener(opts: ListenerOptions): RequestListener {
  const accessLog = new AccessLog(opts.log, () => devModeOn(opts.serving().config));
  const pathsFor = perSite((site) => new ResolveCache(site.root, resolveOptions(site)));
  return (req, res) => {
    if (isHttp2(req)) hostFromAuthority(req);
    const serving = opts.serving();
    const info = accessLog.begin(req, trustListOf(serving.config.trustProxy));
    guard(req, res, info.id, opts.log);
    // After a request carrying Upgrade, Node's parser reads nothing more (another protocol would
    // follow), and pypages speaks none: the answer closes the connection, so a client that
    // pipelined more requests knows to send them again (RFC 9112 9.3.2), instead of never hearing.
    if (req.headers.upgrade !== undefined) res.shouldKeepAlive = false;
    const done = opts.track(res);
    const handled = route(req, res, { info, serving, pathsFor, opts });
    const logged = accessLog.record(req, res, info, handled);
    trackResponse(req, res, () => {
      done();
      logged();
      // Once the handler has settled too: a page's byte count comes with its outcome.
      if (opts.metrics) {
        const end = () => opts.metrics?.end(req, res, info.time.getTime(), info.bytes);
        handled.then(end, end);
      }
    });
  };
}

interface Routing {
  info: RequestInfo;
  serving: Serving;
  pathsFor: (site: Site) => ResolveCache;
  opts: ListenerOptions;
}

/** Framing check, site, target; then the page request, or `others`. */
function route(req: IncomingMessage, res: ServerResponse, routing: Routing): Promise<unknown> {
  const { info, serving, opts } = routing;
  const { config, sites } = serving;
  // HTTP/2's framing is nghttp2's to check; RFC 9112's rules are for HTTP/1.
  const refused = isHttp2(req) ? null : framingProblem(req.httpVersion, req.rawHeaders, config.maxHeaderFields);
  if (refused) {
    // Refused before any handler, the operator pages included; its framing cannot be trusted: closed after.
    opts.metrics?.begin(res, sites.fallback.name);
    const text = errorPageText(refused.status, info.id, refused.reason, sites.fallback.debug);
    writeErrorPage(req, res, refused.status, text, { Connection: 'close' });
    return Promise.resolve();
  }
  const url = originForm(req.url ?? '/');
  const base = sites.siteFor(info.client.host ?? req.headers.host ?? authority(req), url);
  if (!base) {
    const text = errorPageText(421, info.id, 'no site has this host name (default-site: reject)', false);
    return Promise.resolve(writeErrorPage(req, res, 421, text));
  }
  opts.metrics?.begin(res, base.name);
  return routeInSite(req, res, url, base, routing);
}

/** The request's target in its site: a page runs here; the rest (files, operator pages, listings) goes to `others`. */
function routeInSite(req: IncomingMessage, res: ServerResponse, url: string, base: Site, routing: Routing) {
  const { info, serving, pathsFor, opts } = routing;
  const { config, groups } = serving;
  const log = serving.logFor(base);
  const { format, access } = base.logs;
  info.site = { log, name: base.name, vhost: format === 'vhost-combined', console: access === '-' };
  const found = targetOf(url, base, pathsFor(base));
  const { site, target } = inFolder(base, found.target);
  if (target.kind === 'script' && !isOperatorPath(found.urlPath, site, config)) {
    if (site.dev) addLiveReload(req, res, site, info.id, log);
    return runScript(req, res, target, info, { site, groups, log, compress: config.compressPages });
  }
  const paths = pathsFor(site);
  routes.set(req, { info, target, site, lookup: (path) => paths.resolve(path, '') });
  return opts.others(req, res);
}

/** The operator pages (and live reload's stream) come first, in Koa, and decide for themselves (status-allow). */
function isOperatorPath(urlPath: string, site: Site, config: Serving['config']): boolean {
  const { healthPath, statusPath, metricsPath } = config;
  return urlPath === healthPath || urlPath === statusPath || urlPath === metricsPath || isLivePath(site, urlPath);
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
    if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET')
      log.error(`request ${requestId}: response error: ${err.message}; closing the connection`);
    res.destroy();
  });
}

/** What the URL (origin form) names in `site`; a user folder's path is resolved below its prefix. */
function targetOf(url: string, site: Site, paths: ResolveCache): { target: Target; urlPath: string } {
  const queryAt = url.indexOf('?');
  const urlPath = queryAt === -1 ? url : url.slice(0, queryAt);
  const query = queryAt === -1 ? '' : url.slice(queryAt + 1);
  const below = pathInSite(site, urlPath);
  if (below === '') return { target: prefixRedirect(site, query), urlPath };
  return { target: targetInSite(site, paths.resolve(below, query)), urlPath };
}

/** HTTP/2's :authority, which stands for Host there. */
function authority(req: IncomingMessage): string | undefined {
  const value = req.headers[':authority'];
  return typeof value === 'string' ? value : undefined;
}

/** "http://host/a?b" → "/a?b": HTTP/1.1 servers must accept the absolute form (RFC 9112 3.2.2). */
function originForm(url: string): string {
  if (url.charCodeAt(0) === 47 /* / */) return url;
  const authority = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(url);
  if (!authority) return url;
  const rest = url.slice(authority[0].length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}
