import type { Context } from 'koa';
import { buildEnviron, hasRequestBody } from '../lib/environ.js';
import type { GroupManager } from '../lib/groups.js';
import { sendErrorPage } from './error-page.js';

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
export async function runScript(ctx: Context, target: ScriptTarget, groups: GroupManager, root: string, debug: boolean): Promise<void> {
  const { req, res } = ctx;
  const socket = req.socket;
  const environ = buildEnviron(
    {
      method: req.method ?? 'GET',
      rawUrl: req.url ?? '/',
      httpVersion: req.httpVersion,
      rawHeaders: req.rawHeaders,
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      localAddress: socket.localAddress ?? '',
      localPort: socket.localPort ?? 0,
      secure: ctx.secure,
    },
    { ...target, root },
  );
  const outcome = await groups.run({ script: target.file, environ, req, res, hasBody: hasRequestBody(req.headers), requestId: ctx.state.requestId });
  if (outcome.kind === 'done' || res.headersSent || res.destroyed) {
    ctx.respond = false;
    ctx.state.bytes = outcome.kind === 'done' ? outcome.bytes : 0;
    ctx.state.status = res.statusCode;
    return;
  }
  if (outcome.status >= 500) {
    ctx.state.log.error(`request ${ctx.state.requestId}: ${ctx.method} ${ctx.url} → ${outcome.status} (${outcome.errorKind}) in ${target.file}: ${outcome.message}\n${outcome.traceback}`.trimEnd());
  }
  const detail = outcome.traceback || outcome.message;
  sendErrorPage(ctx, outcome.status, detail, debug);
}
