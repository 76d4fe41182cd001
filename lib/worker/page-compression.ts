// compress-pages: a page's answer compressed on its way to the client
// (brotli or gzip, per Accept-Encoding), when its type is worth it, it is
// not tiny, and the page set no Content-Encoding of its own. Each body
// frame is flushed through the compressor as it comes, so a page that
// streams (progress lines, server-sent events) still reaches its client
// piece by piece.

import type { ServerResponse } from 'node:http';
import { constants, createBrotliCompress, createGzip, type BrotliCompress, type Gzip } from 'node:zlib';
import { isCompressible, MIN_COMPRESS_BYTES, type Encoding } from '../http/compression.js';
import type { Head } from './file-wrapper.js';

/** The head to send for `head` compressed with `encoding`, or null when it is to go as it is. */
export function compressedHead(head: Head, encoding: Encoding): Head | null {
  if (head.status < 200 || head.status === 204 || head.status === 304 || head.status === 206) return null;
  const get = (name: string) => head.headers.find(([n]) => n.toLowerCase() === name)?.[1];
  if (get('content-encoding') !== undefined || !isCompressible(get('content-type'))) return null;
  const length = get('content-length');
  if (length !== undefined && Number(length) < MIN_COMPRESS_BYTES) return null;
  const vary = get('vary');
  const headers: [string, string][] = head.headers
    .filter(([n]) => !/^(content-length|vary)$/i.test(n))
    .map(([n, v]) => (/^etag$/i.test(n) && v.startsWith('"') ? [n, `W/${v}`] : [n, v]));
  headers.push(['Content-Encoding', encoding], ['Vary', vary ? `${vary}, Accept-Encoding` : 'Accept-Encoding']);
  return { ...head, headers };
}

/** A compressor whose output goes to `res`; flush() sends what it holds. Ends `res` when it ends; a failure destroys it. */
export function compressorInto(res: ServerResponse, encoding: Encoding): BrotliCompress | Gzip {
  const zip =
    encoding === 'br'
      ? createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: 5 } })
      : createGzip({ level: 6 });
  zip.on('error', () => res.destroy());
  res.once('close', () => zip.destroy());
  zip.pipe(res);
  return zip;
}
