// Request rules of RFC 9112 that Node's parser lets through. Pure: the
// listener asks before anything else looks at a request, and answers with
// the status given (closing the connection) when a problem comes back.

export interface FramingProblem {
  status: 400 | 505;
  reason: string;
}

/** RFC 9112 3.2 and RFC 3986 3.2.2: an IP literal, or a reg-name / IPv4 address; an optional port. */
const HOST =
  /^(?:\[[0-9A-Fa-f:.]+\]|\[v[0-9A-Fa-f]+\.[\w.~!$&'()*+,;=:-]+\]|(?:[\w.~!$&'()*+,;=-]|%[0-9A-Fa-f]{2})*)(?::\d*)?$/;

/**
 * Why a request must be refused, or null. `rawHeaders` is Node's flat
 * [name, value, name, value...] list, as received.
 * - Not HTTP/1.x: this server speaks no other major version over HTTP/1 (505);
 *   a higher minor version is read as HTTP/1.1 (RFC 9110 2.5).
 * - Two Host fields, or one that is not a host: which site is meant is
 *   ambiguous (RFC 9112 3.2: 400).
 * - Transfer-Encoding on HTTP/1.0: its framing is faulty and the connection
 *   must be closed (RFC 9112 6.1); HTTP/1.0 has no chunked coding.
 */
export function framingProblem(httpVersion: string, rawHeaders: readonly string[]): FramingProblem | null {
  if (!httpVersion.startsWith('1.')) return { status: 505, reason: `HTTP/${httpVersion} is not supported` };
  let hosts = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name.length === 4 && name.toLowerCase() === 'host') {
      if (++hosts > 1) return { status: 400, reason: 'more than one Host header' };
      if (!HOST.test(rawHeaders[i + 1]))
        return { status: 400, reason: 'a Host header that is not a host name or address' };
    }
    if (httpVersion === '1.0' && name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      return { status: 400, reason: 'Transfer-Encoding in an HTTP/1.0 request' };
    }
  }
  return null;
}
