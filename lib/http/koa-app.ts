// Koa, for every request that is not a page request (./listener.ts routes
// those around it): what the URL resolved to (a static file, a redirect, a
// 400, 404 or 405 page), behind the middleware the server adds (the operator
// pages), with anything thrown turned into a logged 500 with the request id.
// Each site gets its own static sender (its file memory), made at its first
// request; a reload makes new sites, so new senders.

import Koa, { type Context, type Middleware, type Next } from 'koa';
import { perSite } from '../site/site.js';
import type { Logger } from '../util/log.js';
import { devNotFound } from './dev-not-found.js';
import { sendErrorPage } from './error-page.js';
import { sendListing } from './listing/listing-page.js';
import { ScriptSurvey } from './listing/survey.js';
import { addLiveReload } from './live/live.js';
import { type Routed, routed, type Serving } from './listener.js';
import { runScript } from './page-request.js';
import { staticRefusal } from './static/readable.js';
import { staticSender } from './static/send.js';

/** The app: `middleware` (the operator pages) runs before the URL's target is served. It reads `serving()` per request. */
export function koaApp(serving: () => Serving, middleware: readonly Middleware[], log: Logger): Koa {
  const app = new Koa();
  app.use((ctx, next) => {
    const { info } = routed(ctx.req);
    Object.assign(ctx.state, { requestId: info.id, client: info.client, log });
    return next();
  });
  app.use(errorPages(log));
  for (const m of middleware) app.use(m);
  app.use(serveTargets(serving, log));
  app.on('error', (err: NodeJS.ErrnoException) => {
    // A client that hangs up mid-response is routine, not a server error.
    if (err.code === 'EPIPE' || err.code === 'ECONNRESET' || err.code === 'ERR_STREAM_PREMATURE_CLOSE') return;
    log.error(`koa: ${err.stack ?? err.message}`);
  });
  return app;
}

/** Target → file, redirect or error page (a page, when an operator path that was not for this client names one). */
function serveTargets(serving: () => Serving, log: Logger) {
  const senderFor = perSite(() => staticSender());
  const survey = new ScriptSurvey(log);
  return async (ctx: Context) => {
    const { info, target, site, lookup } = routed(ctx.req);
    if (site.dev && (target.kind === 'static' || target.kind === 'not-found'))
      addLiveReload(ctx.req, ctx.res, site, info.id, log);
    const siteLog = serving().logFor(site);
    switch (target.kind) {
      case 'script':
        return runPage(ctx, { info, target, site }, serving(), siteLog);
      case 'static':
        if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return methodNotAllowed(ctx, site.debug);
        if (refused(ctx, site, siteLog, staticRefusal(site.root, target.file))) return;
        return senderFor(site)(ctx, target.urlPath, target.file);
      case 'redirect':
        ctx.status = 301;
        return ctx.redirect(target.location);
      case 'bad-request':
        return sendErrorPage(ctx, 400, target.reason, site.debug);
      case 'not-found':
        return notFound(ctx, target, { site, lookup, survey, log: siteLog });
      case 'misconfigured':
        siteLog.error(`request ${info.id}: ${target.reason}`);
        return sendErrorPage(ctx, 500, target.reason, site.debug);
    }
  };
}

type ScriptRoute = Pick<Routed, 'info' | 'site'> & { target: Extract<Routed['target'], { kind: 'script' }> };

/** A page whose URL is an operator path that was not for this client: it runs as any page. */
function runPage(ctx: Context, { info, target, site }: ScriptRoute, serving: Serving, log: Logger): Promise<unknown> {
  ctx.respond = false;
  const { groups, config } = serving;
  return runScript(ctx.req, ctx.res, target, info, { site, groups, log, compress: config.compressPages });
}

/** 404; in development mode a folder's listing, or why an existing file is not served. */
async function notFound(
  ctx: Context,
  target: Extract<Routed['target'], { kind: 'not-found' }>,
  listing: Parameters<typeof sendListing>[2],
): Promise<void> {
  const { site, log } = listing;
  // A refusal of symlinks: owner-match is a tenant reaching for another's file: an error, in any mode.
  if (target.confined) log.error(`request ${ctx.state.requestId}: site ${site.name}: 404: ${target.reason}`);
  if (site.dev && (await sendListing(ctx, target, listing))) return;
  if (devNotFound(ctx, site, target.reason, log)) return;
  sendErrorPage(ctx, 404, target.reason, site.debug);
}

/** 403 and its log line when `why` is a reason (lib/http/static/readable.ts); false when it is null. */
function refused(ctx: Context, site: Routed['site'], log: Logger, why: string | null): boolean {
  if (why === null) return false;
  log.error(`request ${ctx.state.requestId}: site ${site.name}: 403: ${why}`);
  sendErrorPage(ctx, 403, why, site.debug);
  return true;
}

function methodNotAllowed(ctx: Context, debug: boolean): void {
  sendErrorPage(ctx, 405, `${ctx.method} is not allowed on a static file`, debug);
  ctx.set('Allow', 'GET, HEAD');
}

/** Anything thrown in the app becomes a logged 500 with the request id (its site's debug mode says whether to show why). */
function errorPages(log: Logger) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (err) {
      const e = err as Error & { status?: number; logged?: boolean };
      const status = e.status && e.status >= 400 && e.status < 600 ? e.status : 500;
      if (status >= 500)
        log.error(`request ${ctx.state.requestId}: ${ctx.method} ${ctx.originalUrl}: ${e.stack ?? e.message}`);
      else if (e.logged)
        log.error(`request ${ctx.state.requestId}: ${ctx.method} ${ctx.originalUrl} → ${status}: ${e.message}`);
      if (ctx.res.headersSent) return void ctx.res.destroy();
      sendErrorPage(ctx, status, e.message, routed(ctx.req).site.debug);
    }
  };
}
