// Request rules of RFC 9112 that Node's parser lets through. Pure: the
// listener asks before anything else looks at a request, and answers with
// the status given (closing the connection) when a problem comes back.

export interface FramingProblem {
  status: 400 | 431 | 505;
  reason: string;
}

/**
 * Header fields Node keeps of a head (its maxHeadersCount): one more than
 * max-header-fields' highest value, so a head over the limit is seen to be
 * over it. Past its count Node drops fields silently while its parser still
 * frames the message with them.
 */
export const FIELDS_KEPT = 2001;

/** RFC 9112 3.2 and RFC 3986 3.2.2: an IP literal, or a reg-name / IPv4 address; an optional port. */
const HOST =
  /^(?:\[[0-9A-Fa-f:.]+\]|\[v[0-9A-Fa-f]+\.[\w.~!$&'()*+,;=:-]+\]|(?:[\w.~!$&'()*+,;=-]|%[0-9A-Fa-f]{2})*)(?::\d*)?$/;

/**
 * Why a request must be refused, or null. `rawHeaders` is Node's flat
 * [name, value, name, value...] list, as received.
 * - More than `maxFields` header fields (max-header-fields): 431 (RFC 6585 5),
 *   as for a head over max-header-size. The limit keeps the list every check
 *   and the page see whole.
 * - Not HTTP/1.x: this server speaks no other major version over HTTP/1 (505);
 *   a higher minor version is read as HTTP/1.1 (RFC 9110 2.5).
 * - Two Host fields, or one that is not a host: which site is meant is
 *   ambiguous (RFC 9112 3.2: 400).
 * - Transfer-Encoding on HTTP/1.0: its framing is faulty and the connection
 *   must be closed (RFC 9112 6.1); HTTP/1.0 has no chunked coding.
 */
export function framingProblem(
  httpVersion: string,
  rawHeaders: readonly string[],
  maxFields: number,
): FramingProblem | null {
  if (rawHeaders.length > 2 * maxFields)
    return { status: 431, reason: `more than ${maxFields} header fields (max-header-fields)` };
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
