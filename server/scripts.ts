import type { Context } from 'koa';
import { buildEnviron, hasRequestBody, type Environ } from '../lib/environ.js';
import type { GroupManager } from '../lib/groups.js';
import type { ClientView } from '../lib/proxy.js';
import { missingModuleNote, sendErrorPage } from './error-page.js';
import { declaredTooLarge, pageBody } from './request-body.js';

export interface ScriptTarget {
  file: string;
  scriptName: string;
  pathInfo: string;
}

/**
 * Runs a page in its group's worker. The worker writes the response itself
 * (streaming, backpressure); only when it fails before sending anything does
 * Koa answer, with an error page.
 */
export async function runScript(ctx: Context, target: ScriptTarget, groups: GroupManager, root: string, debug: boolean, maxBody = 0): Promise<void> {
  const { req, res } = ctx;
  if (declaredTooLarge(req, maxBody)) {
    // Refused before Python sees it; no "100 Continue" was sent, and the unread body makes the connection unusable.
    sendErrorPage(ctx, 413, `Content-Length ${req.headers['content-length']} is over max-body (${maxBody} bytes)`, debug);
    ctx.set('Connection', 'close');
    return;
  }
  const environ = scriptEnviron(ctx, target, root);
  const hasBody = hasRequestBody(req.headers);
  // The page reads the body through a wrapper that enforces max-body and answers 100-continue.
  const body = hasBody ? pageBody(req, res, maxBody) : req;
  const outcome = await groups.run({ script: target.file, environ, req: body, res, hasBody, requestId: ctx.state.requestId });
  if (outcome.kind === 'done' || res.headersSent || res.destroyed || outcome.status === 499) {
    if (outcome.kind === 'error' && outcome.status === 499) res.statusCode = 499; // for the access log: nobody to answer
    ctx.respond = false;
    ctx.state.bytes = outcome.kind === 'done' ? outcome.bytes : 0;
    ctx.state.status = res.statusCode;
    return;
  }
  if (outcome.status >= 500) {
    ctx.state.log.error(`request ${ctx.state.requestId}: ${ctx.method} ${ctx.url} → ${outcome.status} (${outcome.errorKind}) in ${target.file}: ${outcome.message}\n${outcome.traceback}`.trimEnd());
  }
  // A full queue or no free thread in time: the client may try again shortly.
  if (outcome.status === 503) ctx.set('Retry-After', '1');
  const detail = outcome.traceback || outcome.message;
  sendErrorPage(ctx, outcome.status, detail, debug, missingModuleNote(outcome.message));
}

/** The CGI environ, with the client's address, scheme and Host as believed from trusted proxies (ctx.state.client). */
function scriptEnviron(ctx: Context, target: ScriptTarget, root: string): Environ {
  const { req } = ctx;
  const socket = req.socket;
  const client = ctx.state.client as ClientView | undefined;
  return buildEnviron(
    {
      method: req.method ?? 'GET',
      rawUrl: req.url ?? '/',
      httpVersion: req.httpVersion,
      rawHeaders: req.rawHeaders,
      remoteAddress: client?.remoteAddr ?? socket.remoteAddress ?? '',
      remotePort: client?.remotePort ?? socket.remotePort ?? 0,
      localAddress: socket.localAddress ?? '',
      localPort: client?.serverPort ?? socket.localPort ?? 0,
      secure: client?.secure ?? ctx.secure,
      forwardedHost: client?.host ?? null,
    },
    { ...target, root },
  );
}
