// The answer for a static file, the same whether its bytes are in memory
// (./file-cache.ts) or in an open file to stream: its headers, then by the
// request's conditions and Range (lib/http/ranges.ts) 304, 206 (one range or
// multipart/byteranges), 416 or 200; a 200 compressed with brotli or gzip
// when the client accepts it and the type is worth it (./compressed.ts,
// never for a range or a tiny file); no body for HEAD.

import type { Context } from 'koa';
import type { FileHandle } from 'node:fs/promises';
import { chooseEncoding, isCompressible, MIN_COMPRESS_BYTES, type Encoding } from '../compression.js';
import { multipartFromBuffer, multipartStream, planMultipart } from '../multipart.js';
import { contentRange, decide, unsatisfiedRange, type Span } from '../ranges.js';
import { MAX_COMPRESS_BYTES, type CompressedCache } from './compressed.js';
import { etagOf } from './validators.js';

/** One version of a static file and where its bytes are: a Buffer, or a file opened for it (closed by answer()). */
export interface StaticFile {
  /** The real path (the key of its compressed copies). */
  path: string;
  size: number;
  etag: string;
  lastModified: string;
  type: string;
  bytes: Buffer | FileHandle;
}

/**
 * Answers `ctx` with `file`. Sets ETag (strong for the file's own bytes,
 * weak for a compressed copy, as nginx does), Last-Modified,
 * "Cache-Control: max-age=0", Content-Type, Accept-Ranges, and
 * "Vary: Accept-Encoding" for compressible files. Closes an open file it
 * does not stream (Koa destroys a streamed one when the response ends).
 */
export async function answer(ctx: Context, file: StaticFile, copies: CompressedCache): Promise<void> {
  const res = ctx.res;
  const compressible = mayCompress(file);
  res.setHeader('Last-Modified', file.lastModified);
  res.setHeader('Cache-Control', 'max-age=0');
  res.setHeader('Content-Type', file.type);
  res.setHeader('Accept-Ranges', 'bytes');
  if (compressible) res.setHeader('Vary', 'Accept-Encoding');
  const validators = { etag: file.etag, lastModified: file.lastModified };
  const decision = decide(ctx.method, ctx.req.headers, file.size, validators);
  const encoding = compressible && decision.kind !== 'partial' ? chooseEncoding(ctx.req.headers) : null;
  res.setHeader('ETag', encoding ? `W/${file.etag}` : file.etag);
  if (decision.kind === 'full' && encoding && (await sendCopy(ctx, file, encoding, copies))) return close(file);
  if (decision.kind === 'partial') return sendSpans(ctx, file, decision.spans);
  if (decision.kind === 'not-modified' || decision.kind === 'unsatisfiable') {
    void close(file);
    return decision.kind === 'unsatisfiable' ? unsatisfiable(ctx, file.size) : void (ctx.status = 304);
  }
  sendBody(ctx, file, file.size, () => (Buffer.isBuffer(file.bytes) ? file.bytes : whole(file.bytes)));
}

function mayCompress(file: StaticFile): boolean {
  return file.size >= MIN_COMPRESS_BYTES && file.size <= MAX_COMPRESS_BYTES && isCompressible(file.type);
}

/** The compressed copy as a 200; false (nothing sent) when there is none worth sending. */
async function sendCopy(ctx: Context, file: StaticFile, encoding: Encoding, copies: CompressedCache) {
  const load = () => (Buffer.isBuffer(file.bytes) ? Promise.resolve(file.bytes) : readVersion(file.bytes, file));
  const copy = await copies.get(file.path, file.etag, encoding, load);
  if (copy === null) return false;
  ctx.set('Content-Encoding', encoding);
  sendBody(ctx, file, copy.length, () => copy);
  return true;
}

/** One range as 206 with Content-Range, several as multipart/byteranges. */
function sendSpans(ctx: Context, file: StaticFile, spans: Span[]): void {
  ctx.status = 206;
  if (spans.length === 1) {
    const [span] = spans;
    ctx.set('Content-Range', contentRange(span, file.size));
    const bytes = file.bytes;
    sendBody(ctx, file, span.end - span.start + 1, () =>
      Buffer.isBuffer(bytes) ? bytes.subarray(span.start, span.end + 1) : part(bytes, span, true),
    );
    return;
  }
  const plan = planMultipart(spans, file.size, file.type);
  ctx.set('Content-Type', plan.contentType);
  const bytes = file.bytes;
  sendBody(ctx, file, plan.length, () => {
    if (Buffer.isBuffer(bytes)) return multipartFromBuffer(plan, bytes);
    const body = multipartStream(plan, (span) => part(bytes, span, false));
    body.once('close', () => void bytes.close().catch(() => {}));
    return body;
  });
}

/** Sets the body (made by `body()`, not made at all for HEAD), its status if unset, and its length. */
function sendBody(ctx: Context, file: StaticFile, length: number, body: () => Buffer | NodeJS.ReadableStream): void {
  if (ctx.status === 404) ctx.status = 200; // Koa's status until one is set
  if (ctx.method === 'HEAD') {
    void close(file);
    ctx.set('Content-Length', String(length));
    return;
  }
  const status = ctx.status;
  ctx.body = body();
  ctx.status = status; // setting a body may make it 200
  ctx.set('Content-Length', String(length));
}

function unsatisfiable(ctx: Context, size: number): void {
  ctx.status = 416;
  ctx.set('Content-Range', unsatisfiedRange(size));
  ctx.body = '';
}

function whole(handle: FileHandle): NodeJS.ReadableStream {
  return handle.createReadStream({ start: 0, autoClose: true });
}

function part(handle: FileHandle, span: Span, autoClose: boolean): NodeJS.ReadableStream & AsyncIterable<Buffer> {
  return handle.createReadStream({ start: span.start, end: span.end, autoClose });
}

/** The file's bytes if they are still the version `file` describes (same size and validators after the read); else null. */
async function readVersion(handle: FileHandle, file: StaticFile): Promise<Buffer | null> {
  const body = Buffer.allocUnsafe(file.size);
  let got = 0;
  for (let n = -1; got < file.size && n !== 0; got += n)
    n = (await handle.read(body, got, file.size - got, got)).bytesRead;
  const st = await handle.stat();
  return got === file.size && etagOf(st.size, st.mtimeMs) === file.etag ? body : null;
}

function close(file: StaticFile): Promise<void> | undefined {
  if (Buffer.isBuffer(file.bytes)) return;
  return file.bytes.close().catch(() => {});
}
