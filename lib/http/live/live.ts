// Live reload, where requests meet it: the script added to a document's
// answer (a page's, a static file's, an error page's, a listing's), and the
// EventSource endpoint on LIVE_PATH. Both only in development mode, and only
// for a request the development pages are for (lib/http/dev-request.ts: not
// one that came through a proxy).

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context, Next } from 'koa';
import type { Site } from '../../site/site.js';
import type { Logger } from '../../util/log.js';
import { devFor } from '../dev-request.js';
import { routed } from '../listener.js';
import { LIVE_PATH, liveSnippet } from './client.js';
import type { LiveHub } from './hub.js';
import { injectInto } from './inject.js';

// Fetch Metadata: what the browser loads this answer as. Fragments fetched by
// a page's own script (fetch(), htmx) and other subresources get no script.
const DOCUMENT_DESTINATIONS = new Set(['document', 'iframe', 'frame']);

/** True when live reload is on for this request of `site`: development mode, and the client is a browser loading a document. */
export function liveFor(req: IncomingMessage, site: Site): boolean {
  if (!devFor(site, req.headers) || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
  const dest = req.headers['sec-fetch-dest'];
  return dest === undefined || DOCUMENT_DESTINATIONS.has(String(dest));
}

/** Adds the live-reload script to `res`'s answer if it is an HTML document that allows it; call before anything is written. */
export function addLiveReload(
  req: IncomingMessage,
  res: ServerResponse,
  site: Site,
  requestId: string,
  log: Logger,
): void {
  if (!liveFor(req, site)) return;
  injectInto(res, liveSnippet(Date.now()), (why) => {
    // Once per URL: the page says the same on every load.
    const key = `${site.name}\0${req.url}`;
    if (told.has(key)) return;
    if (told.size >= 1000) told.clear();
    told.add(key);
    log.error(`request ${requestId}: live reload not added to ${req.url}: ${why}; reload it by hand after an edit`);
  });
}

const told = new Set<string>();

/** True when `urlPath` of a request to `site` is the live-reload endpoint (reserved in development mode only). */
export function isLivePath(site: Site, urlPath: string): boolean {
  return site.dev && urlPath === LIVE_PATH;
}

/** Koa middleware: the endpoint, for the requests development pages are for; anything else goes on as usual. */
export function liveEndpoint(hub: LiveHub) {
  return async (ctx: Context, next: Next) => {
    const { site, lookup, info } = routed(ctx.req);
    if (ctx.path !== LIVE_PATH || !site.dev || !devFor(site, ctx.headers) || ctx.method !== 'GET') return next();
    ctx.respond = false;
    hub.connect(ctx.req, ctx.res, { site, lookup, requestId: info.id });
  };
}
