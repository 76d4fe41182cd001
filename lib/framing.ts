// Request rules of RFC 9112 that Node's parser lets through. Pure: the
// listener asks before anything else looks at a request, and answers 400
// (closing the connection) when a reason comes back.

/**
 * Why a request must be refused with 400, or null. `rawHeaders` is Node's
 * flat [name, value, name, value...] list, as received.
 * - Two Host fields: which one names the site is ambiguous (RFC 9112 3.2).
 * - Transfer-Encoding on HTTP/1.0: its framing is faulty and the connection
 *   must be closed (RFC 9112 6.1); HTTP/1.0 has no chunked coding.
 */
export function framingProblem(httpVersion: string, rawHeaders: readonly string[]): string | null {
  let hosts = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name.length === 4 && name.toLowerCase() === 'host' && ++hosts > 1) return 'more than one Host header';
    if (httpVersion === '1.0' && name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      return 'Transfer-Encoding in an HTTP/1.0 request';
    }
  }
  return null;
}
