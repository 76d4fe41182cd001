import type { Context } from 'koa';
import serve from 'koa-static';
import type { Stats } from 'node:fs';
import type { ServerResponse } from 'node:http';

/**
 * Sends a file the resolver already approved, through koa-static (which uses
 * mime-types for Content-Type and sets Last-Modified). koa-static has no
 * ETag or conditional GET; we add a weak ETag and answer 304 when fresh.
 */
export function staticSender(root: string): (ctx: Context, urlPath: string) => Promise<void> {
  const middleware = serve(root, { hidden: true, index: false, defer: false, setHeaders: setEtag });
  return async (ctx, urlPath) => {
    // koa-static reads ctx.path and decodes it: hand it the approved path, encoded.
    ctx.path = urlPath.split('/').map(encodeURIComponent).join('/');
    await middleware(ctx, async () => {});
    if (ctx.status !== 200 || (!ctx.fresh && ctx.method !== 'HEAD')) return;
    // Koa sends no body for 304 and HEAD but leaves the file open: close it now.
    const body = ctx.body as { destroy?: () => void } | null;
    if (ctx.fresh) ctx.status = 304;
    body?.destroy?.();
  };
}

function setEtag(res: ServerResponse, _path: string, stats: Stats): void {
  res.setHeader('ETag', `W/"${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`);
}
