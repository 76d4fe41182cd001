import type { Context, Middleware } from 'koa';
import serve from 'koa-static';
import { contentType } from 'mime-types';
import type { Stats } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { FileCache, type FileVersion } from './file-cache.js';
import { etagOf } from './validators.js';

/**
 * Sends a file the resolver already approved. `file` is the real path
 * lib/http/resolve.ts checked (inside the root, no denied name on the way).
 *
 * Files up to 256 KiB are sent from memory (./file-cache.ts: checked
 * against the disk with one lstat per request, so an edit, a deletion or a
 * swapped link is seen at once): one Buffer, headers and body in one write.
 * Larger files, and files that kept changing while being read, are streamed
 * by koa-static. Both send the same headers: Content-Type from the
 * URL's extension (mime-types, with charset), Content-Length, Last-Modified,
 * a weak ETag and "Cache-Control: max-age=0" (koa-send's default); 304 when
 * the request's validators match (ctx.fresh), no body for HEAD. Both read
 * `file`, never the URL path again. If `file` is gone, or is no longer a
 * regular file (a symlink put in its place since resolve looked), the answer
 * is a bare 404, as koa-static answers for a missing file: nothing is
 * followed past what resolve approved.
 */
export function staticSender(root: string): (ctx: Context, urlPath: string, file: string) => Promise<void> {
  // gzip and brotli off: koa-send would otherwise send NAME.gz or NAME.br in
  // place of NAME when the client accepts it, a file resolve never looked at
  // (it may be a symlink out of the root) and with no Vary header.
  const middleware = serve(root, {
    hidden: true,
    index: false,
    defer: false,
    gzip: false,
    brotli: false,
    setHeaders: setEtag,
  });
  const memory = new FileCache();
  return async (ctx, urlPath, file) => {
    const found = memory.get(file);
    if (!('skip' in found)) return sendFromMemory(ctx, urlPath, found);
    // Gone, or not a regular file now: 404. (Never outside the root: resolve checked.)
    const below = found.skip === 'missing' || found.skip === 'not-file' ? null : viaRoot(root, file);
    if (below === null) {
      ctx.status = 404;
      return;
    }
    await stream(middleware, ctx, below);
    if (ctx.status === 200) ctx.set('Content-Type', contentTypeOf(urlPath));
  };
}

/** Streams `filePath` (below the root, as viaRoot gives it) by koa-static; closes the file at once for 304 and HEAD. */
async function stream(middleware: Middleware, ctx: Context, filePath: string): Promise<void> {
  // koa-static reads ctx.path and decodes it: hand it the path, encoded.
  ctx.path = filePath.split('/').map(encodeURIComponent).join('/');
  await middleware(ctx, async () => {});
  if (ctx.status !== 200 || (!ctx.fresh && ctx.method !== 'HEAD')) return;
  // Koa sends no body for 304 and HEAD but leaves the file open: close it now.
  const body = ctx.body as { destroy?: () => void } | null;
  if (ctx.fresh) ctx.status = 304;
  body?.destroy?.();
}

/** One Buffer, headers and body in one write; 304 when the request's validators match, no body for HEAD. */
function sendFromMemory(ctx: Context, urlPath: string, found: FileVersion): void {
  const res = ctx.res;
  res.setHeader('ETag', found.etag);
  res.setHeader('Last-Modified', found.lastModified);
  res.setHeader('Cache-Control', 'max-age=0');
  res.setHeader('Content-Type', contentTypeOf(urlPath));
  // Sets the status and Content-Length; Koa drops the body (and both headers) for 304, sends none for HEAD.
  ctx.body = found.body;
  // ctx.fresh copies the response headers to compare them: ask only when the request has a validator.
  const { headers } = ctx.req;
  if ((headers['if-none-match'] !== undefined || headers['if-modified-since'] !== undefined) && ctx.fresh)
    ctx.status = 304;
}

/** `/a/b` for ROOT/a/b: the real path as koa-static wants it; null if it is not below `root`. */
function viaRoot(root: string, file: string): string | null {
  const rel = path.relative(root, file);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return null;
  return `/${rel.split(path.sep).join('/')}`;
}

/**
 * Content-Type as koa-send and Koa choose it: mime-types' type for the
 * extension (with charset), application/octet-stream when there is none.
 * From the URL path: a link `notes` to `notes.md` is sent as
 * octet-stream, the link's name deciding, not the target's.
 */
export function contentTypeOf(urlPath: string): string {
  const ext = path.extname(urlPath);
  let type = typeByExt.get(ext);
  if (type === undefined) {
    type = contentType(ext) || 'application/octet-stream';
    // Extensions come from file names under the root: few, but not ours to count.
    if (typeByExt.size >= 1000) typeByExt.clear();
    typeByExt.set(ext, type);
  }
  return type;
}

/** Extension → Content-Type: mime-types' lookup costs 2 µs of a static request's ~120 µs. */
const typeByExt = new Map<string, string>();

function setEtag(res: ServerResponse, _path: string, stats: Stats): void {
  res.setHeader('ETag', etagOf(stats.size, stats.mtimeMs));
}
