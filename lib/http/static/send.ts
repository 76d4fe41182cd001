import type { Context } from 'koa';
import { contentType } from 'mime-types';
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import { answer } from './answer.js';
import { CompressedCache } from './compressed.js';
import { FileCache } from './file-cache.js';
import { validatorsOf } from './validators.js';

/**
 * Sends a file the resolver already approved. `file` is the real path
 * lib/http/resolve.ts checked (inside the root, no denied name on the way).
 *
 * Files up to 256 KiB are sent from memory (./file-cache.ts: checked
 * against the disk with one lstat per request, so an edit, a deletion or a
 * swapped link is seen at once): one Buffer, headers and body in one write.
 * Larger files, and files that kept changing while being read, are opened
 * (never through a symlink put in place since: O_NOFOLLOW) and streamed.
 * Both are answered by ./answer.ts, with the same headers, conditions,
 * ranges and compression: Content-Type from the URL's extension
 * (mime-types, with charset), Content-Length, Last-Modified, the ETag of
 * ./validators.ts, "Cache-Control: max-age=0". If `file` is gone, or is no
 * longer a regular file, the answer is a bare 404: nothing is followed past
 * what resolve approved. Each sender (one per site) has its own memory and
 * compressed copies.
 */
export function staticSender(): (ctx: Context, urlPath: string, file: string) => Promise<void> {
  const memory = new FileCache();
  const copies = new CompressedCache();
  return async (ctx, urlPath, file) => {
    const type = contentTypeOf(urlPath);
    const found = memory.get(file);
    if (!('skip' in found)) {
      const { body, etag, lastModified } = found;
      return answer(ctx, { path: file, size: body.length, etag, lastModified, type, bytes: body }, copies);
    }
    const opened = found.skip === 'missing' || found.skip === 'not-file' ? null : await openFile(file);
    if (opened === null) return void (ctx.status = 404);
    return answer(ctx, { path: file, type, ...opened }, copies);
  };
}

/**
 * Opens a regular file for streaming: its handle, size and validators; null
 * when it is gone or is not a regular file now (a symlink in its place:
 * ELOOP). O_NONBLOCK: a FIFO swapped in must not block open(). A file the
 * server's user may not read is a 403 (as nginx's and Apache's), logged
 * with what to chmod; other errors are thrown: the error page's 500, logged.
 */
async function openFile(
  file: string,
): Promise<{ bytes: FileHandle; size: number; etag: string; lastModified: string } | null> {
  let handle: FileHandle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (['ENOENT', 'ENOTDIR', 'ELOOP'].includes(code)) return null;
    if (code === 'EACCES' || code === 'EPERM') throw forbidden(file);
    throw err;
  }
  const st = await handle.stat().catch(() => null);
  if (st === null || !st.isFile()) {
    await handle.close().catch(() => {});
    return null;
  }
  return { bytes: handle, size: st.size, ...validatorsOf(st.size, st.mtimeMs) };
}

function forbidden(file: string): Error {
  const why = `${file} may not be read by the server's user ${userInfo().username} (chmod o+r it, o+x its folders)`;
  return Object.assign(new Error(why), { status: 403, logged: true });
}

/**
 * Content-Type as Koa chooses it: mime-types' type for the
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
