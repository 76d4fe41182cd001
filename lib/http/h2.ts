// HTTP/2 requests, seen through node:http2's compatibility API: the request
// path is written against node:http's req/res, which the compatibility
// objects mimic, but for a few things HTTP/2 does differently. Each is
// answered here, so the rest of lib/http asks one place:
//   - a request has a body unless its HEADERS frame ended the stream (there is
//     no Transfer-Encoding, and Content-Length is optional);
//   - the Host is the :authority pseudo-header;
//   - connection-specific response headers (Connection, Keep-Alive,
//     Transfer-Encoding, Upgrade, Proxy-Connection) are illegal (RFC 9113
//     8.2.2): a page's are dropped, not sent; nor is a reason phrase.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2Stream } from 'node:http2';

type MaybeH2 = IncomingMessage & { stream?: Http2Stream };

/** True for a request that came over HTTP/2 (its stream, not its version: an HTTP/1 request line may say "HTTP/2.0"). */
export function isHttp2(req: IncomingMessage): boolean {
  return (req as MaybeH2).stream !== undefined;
}

/** The HTTP/2 stream of a request or response, or undefined over HTTP/1. */
export function streamOf(reqOrRes: IncomingMessage | ServerResponse): Http2Stream | undefined {
  return (reqOrRes as MaybeH2).stream;
}

/** An HTTP/2 request has a body unless its headers ended the stream (END_STREAM). */
export function http2HasBody(req: IncomingMessage): boolean {
  const stream = streamOf(req);
  return stream !== undefined && !stream.endAfterHeaders;
}

/** Gives an HTTP/2 request the Host header the rest of the path reads, from :authority (RFC 9113 8.3.1). */
export function hostFromAuthority(req: IncomingMessage): void {
  const authority = req.headers[':authority'];
  if (req.headers.host === undefined && typeof authority === 'string') req.headers.host = authority;
}

const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/**
 * Writes a response head: over HTTP/1 as given; over HTTP/2 without the
 * reason phrase and the connection-specific headers, which HTTP/2 forbids.
 * `headers` is a flat [name, value, ...] list.
 */
export function writeHead(res: ServerResponse, status: number, reason: string, headers: string[]): void {
  if (streamOf(res) === undefined) return void res.writeHead(status, reason, headers);
  const kept: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2)
    if (!CONNECTION_SPECIFIC.has(headers[i].toLowerCase())) kept.push(headers[i], headers[i + 1]);
  res.writeHead(status, kept);
}
