import type { Context } from 'koa';
import { STATUS_CODES, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { isHttp2 } from './h2.js';

const EXPLANATIONS: Record<number, string> = {
  400: 'The request could not be understood by the server.',
  403: 'The web server is not allowed to read the requested file.',
  404: 'The requested URL was not found on this server.',
  405: 'This method is not allowed for the requested URL.',
  408: 'The client sent nothing for too long while the server waited for the request.',
  413: 'The request body is larger than this server accepts.',
  431: 'The request has more header fields than this server accepts.',
  500: 'The page failed while handling the request.',
  502: 'The page stopped before it finished answering.',
  503: 'The server cannot handle the request right now; try again shortly.',
  504: 'The page took too long to answer.',
};

/**
 * A short plain-text error page carrying the request id that is also in the
 * error log. `detail` (a reason, a Python traceback) is shown only in debug
 * mode: it may reveal paths and code. `note` is always shown: it is for
 * advice that reveals nothing (see lib/http/module-help.ts, safeModuleNote).
 * Development mode has its own pages (./dev-page.ts).
 */
export function errorPageText(status: number, requestId: string, detail: string, debug: boolean, note = ''): string {
  const title = `${status} ${STATUS_CODES[status] ?? 'Error'}`;
  const lines = [title, '', EXPLANATIONS[status] ?? '', ...(note ? ['', note, ''] : []), `Request id: ${requestId}`];
  if (status >= 500) lines.push('The details are in the server log, under this request id.');
  if (debug && detail) lines.push('', detail);
  return `${lines.join('\n')}\n`;
}

/** The error page as Koa's answer. */
export function sendErrorPage(ctx: Context, status: number, detail: string, debug: boolean, note = ''): void {
  ctx.status = status;
  ctx.type = 'text/plain; charset=utf-8';
  ctx.body = errorPageText(status, ctx.state.requestId, detail, debug, note);
}

/** The error page written straight to a response that has not started (the script path has no Koa context). */
export function writeErrorPage(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  text: string,
  headers: OutgoingHttpHeaders = {},
): void {
  // setHeader, not writeHead's argument: the access log reads Content-Length back with getHeader.
  for (const [name, value] of Object.entries(headers)) {
    // Over HTTP/2 a stream ends alone: there is no connection to close (and the header is illegal).
    if (value !== undefined && !(isHttp2(req) && name.toLowerCase() === 'connection')) res.setHeader(name, value);
  }
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.writeHead(status);
  res.end(req.method === 'HEAD' ? undefined : text);
}
