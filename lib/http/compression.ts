// Content-Encoding for answers: which one a client accepts (negotiator, as
// Koa's ctx.acceptsEncodings), which types are worth it (compressible,
// the mime-db flag koa-compress uses), and the zlib settings. Node's zlib
// does the compressing; nothing here is a codec.

import compressible from 'compressible';
import Negotiator from 'negotiator';
import type { IncomingHttpHeaders } from 'node:http';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip, type BrotliOptions, type ZlibOptions } from 'node:zlib';

export type Encoding = 'br' | 'gzip';

/** Smaller bodies are sent as they are: the saving is less than a packet, the cost is not. */
export const MIN_COMPRESS_BYTES = 1024;
/** Up to this size brotli runs at its best quality (11): ~2.5 ms for the demo CSS, ~100 ms for 64 KiB. */
export const BEST_QUALITY_BYTES = 64 * 1024;

/**
 * The encoding to answer with: br or gzip as the client's Accept-Encoding
 * ranks them (br first when it ranks them equal, as browsers send
 * "gzip, deflate, br"), or null for none (absent, "identity", q=0).
 */
export function chooseEncoding(headers: IncomingHttpHeaders): Encoding | null {
  if (headers['accept-encoding'] === undefined) return null;
  const negotiator = new Negotiator({ headers }) as Negotiator & {
    encodings(available: string[], options: { preferred: string[] }): string[];
  };
  const [best] = negotiator.encodings(['br', 'gzip'], { preferred: ['br', 'gzip'] });
  return (best as Encoding | undefined) ?? null;
}

/**
 * Whether a body of this Content-Type is worth compressing (text, JSON,
 * JavaScript, SVG...; not images, archives, video). Not
 * application/octet-stream, which mime-db calls compressible: it is what a
 * file of unknown type is sent as, most often bytes already compressed.
 */
export function isCompressible(contentType: string | undefined): boolean {
  if (contentType === undefined || contentType.startsWith('application/octet-stream')) return false;
  return compressible(contentType) === true;
}

/**
 * zlib options for a body of `size` bytes: brotli 11 up to
 * BEST_QUALITY_BYTES, else 5 (quality 11 costs 2.6 s of CPU per MiB of
 * text, 5 costs 50 ms and still beats gzip 9: bench/compression.mjs); its
 * window no larger than the body (a 4 MiB window for 1 KB costs more
 * to set up than to compress). gzip at zlib's default level 6, whose output
 * is within 1% of level 9's for half the CPU.
 */
export function zlibOptions(encoding: Encoding, size: number): BrotliOptions | ZlibOptions {
  if (encoding === 'gzip') return { level: 6 };
  const window = Math.min(24, Math.max(16, Math.ceil(Math.log2(Math.max(size, 1)))));
  return {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: size <= BEST_QUALITY_BYTES ? 11 : 5,
      [constants.BROTLI_PARAM_LGWIN]: window,
      [constants.BROTLI_PARAM_SIZE_HINT]: size,
    },
  };
}

const brotliAsync = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** Compresses `body` on the thread pool (the event loop goes on meanwhile). */
export function compress(body: Buffer, encoding: Encoding): Promise<Buffer> {
  const options = zlibOptions(encoding, body.length);
  return encoding === 'br' ? brotliAsync(body, options as BrotliOptions) : gzipAsync(body, options as ZlibOptions);
}
