// A page request, from the resolved script to the last byte. This is the hot
// path, so it runs on node:http's request and response directly, without a
// Koa context: the worker writes the response itself (streaming,
// backpressure); only when it fails before sending anything does this file
// answer, with an error page.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildEnviron, type Environ } from './environ.js';
import type { GroupRegistry } from '../groups/registry.js';
import type { Site } from '../site/site.js';
import type { ClientWatch, Job } from '../worker/exchange.js';
import type { Outcome } from '../worker/outcome.js';
import { BODY_WINDOW } from '../worker/protocol.js';
import type { Logger } from '../util/log.js';
import type { RequestInfo } from './access-log.js';
import { watchClient } from './client-timeouts.js';
import { errorPageText, writeErrorPage } from './error-page.js';
import { devFor } from './dev-request.js';
import { answerPageError } from './page-error.js';
import { declaredTooLarge, requestBody } from './body/limits.js';

export interface ScriptTarget {
  file: string;
  scriptName: string;
  pathInfo: string;
}

export interface ScriptContext {
  /** The request's site: its root, limits, debug mode and groups. */
  site: Site;
  groups: GroupRegistry;
  log: Logger;
}

/** Runs a page in its group's worker; never rejects (a bug here is a logged 500). */
export async function runScript(
  req: IncomingMessage,
  res: ServerResponse,
  target: ScriptTarget,
  info: RequestInfo,
  cx: ScriptContext,
): Promise<void> {
  try {
    await run(req, res, target, info, cx);
  } catch (err) {
    cx.log.error(`request ${info.id}: ${req.method} ${req.url}: ${(err as Error).stack ?? err}`);
    if (res.headersSent) return void res.destroy();
    writeErrorPage(req, res, 500, errorPageText(500, info.id, (err as Error).message, cx.site.debug));
  }
}

async function run(
  req: IncomingMessage,
  res: ServerResponse,
  target: ScriptTarget,
  info: RequestInfo,
  cx: ScriptContext,
): Promise<void> {
  const { site, groups } = cx;
  if (declaredTooLarge(req, site.maxBody)) {
    // Refused before Python sees it; no "100 Continue" was sent, and the unread body makes the connection unusable.
    const reason = `Content-Length ${req.headers['content-length']} is over max-body (${site.maxBody} bytes)`;
    return writeErrorPage(req, res, 413, errorPageText(413, info.id, reason, site.debug), { Connection: 'close' });
  }
  const job = pageJob(req, res, target, info, site);
  const outcome = await groups.run(site, job);
  // The page is done: whatever is left (flushing the answer) is the client's to take.
  [job.watch.waitingOnClient, job.watch.onClientTimeout] = [true, null];
  answer(req, res, { target, info, cx, environ: job.environ }, outcome);
}

/** The worker's job for a page: its environ, its body as the worker is sent it, and the watch on its client. */
function pageJob(
  req: IncomingMessage,
  res: ServerResponse,
  target: ScriptTarget,
  info: RequestInfo,
  site: Site,
): Job & { watch: ClientWatch } {
  const environ = scriptEnviron(req, target, site, info);
  const { hasBody, body, push } = requestBody(
    req,
    res,
    { maxBody: site.maxBody, requestId: info.id, debug: site.debug },
    BODY_WINDOW,
  );
  const watch = watchClient(res);
  const details = devFor(site, req.headers); // development mode: the worker sends frames and locals
  return { script: target.file, environ, req: body, res, hasBody, pushBody: push, requestId: info.id, watch, details };
}

/** The outcome, told to the client: an error page unless the page answered (or nobody is left to answer). */
function answer(
  req: IncomingMessage,
  res: ServerResponse,
  { target, info, cx, environ }: { target: ScriptTarget; info: RequestInfo; cx: ScriptContext; environ: Environ },
  outcome: Outcome,
): void {
  if (outcome.kind === 'done' || res.headersSent || res.destroyed || outcome.status === 499) {
    // For the access log: the client left before anything was sent: nobody to answer (nginx's 499).
    if (!res.headersSent && (res.destroyed || outcome.status === 499)) res.statusCode = 499;
    // Body bytes the page sent; else (nothing, or a 413 that body/limits.ts answered) its Content-Length.
    info.bytes = outcome.kind === 'done' && outcome.bytes ? outcome.bytes : null;
    return;
  }
  answerPageError({ req, res, file: target.file, info, site: cx.site, log: cx.log, environ }, outcome);
}

/** The CGI environ, with the client's address, scheme and Host as believed from trusted proxies, and the site's root and name. */
function scriptEnviron(req: IncomingMessage, target: ScriptTarget, site: Site, info: RequestInfo): Environ {
  const socket = req.socket;
  const { client } = info;
  return buildEnviron(
    {
      method: req.method ?? 'GET',
      rawUrl: req.url ?? '/',
      httpVersion: req.httpVersion,
      rawHeaders: req.rawHeaders,
      remoteAddress: client.remoteAddr,
      remotePort: client.remotePort,
      localAddress: socket.localAddress ?? '',
      localPort: client.serverPort ?? socket.localPort ?? 0,
      secure: client.secure,
      forwardedHost: client.host,
    },
    { ...target, root: site.root, serverName: site.serverName },
  );
}
