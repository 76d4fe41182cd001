import type { Context } from 'koa';
import { STATUS_CODES } from 'node:http';

const EXPLANATIONS: Record<number, string> = {
  400: 'The request could not be understood by the server.',
  404: 'The requested URL was not found on this server.',
  405: 'This method is not allowed for the requested URL.',
  500: 'The page failed while handling the request.',
  502: 'The page stopped before it finished answering.',
  503: 'The server cannot handle the request right now; try again shortly.',
};

/**
 * Answers with a short plain-text error page carrying the request id that is
 * also in the error log. `detail` (a reason, a Python traceback) is shown only
 * in debug mode: it may reveal paths and code.
 */
export function sendErrorPage(ctx: Context, status: number, detail: string, debug: boolean): void {
  const title = `${status} ${STATUS_CODES[status] ?? 'Error'}`;
  const lines = [title, '', EXPLANATIONS[status] ?? '', `Request id: ${ctx.state.requestId}`];
  if (debug && detail) lines.push('', detail);
  ctx.status = status;
  ctx.type = 'text/plain; charset=utf-8';
  ctx.body = lines.join('\n') + '\n';
}
