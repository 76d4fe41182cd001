// HTTP/1.x on the wire, for tests that send raw bytes: a strict parser of
// what a server sends back (RFC 9112 framing: status line, field lines,
// Content-Length / chunked / close-delimited bodies, interim 1xx), and one
// exchange on a fresh connection with explicit end conditions. Hand-written
// on purpose: it is the judge of "well-formed" in the fuzzer and the corpus,
// so it must refuse what lenient client parsers repair (bare LF, obs-fold,
// conflicting lengths, malformed chunks).

import { connect } from 'node:net';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const STATUS_LINE = /^HTTP\/(1\.[01]) ([1-5][0-9]{2}) ([\t\x20-\x7e\x80-\xff]*)$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const CHUNK_LINE = /^([0-9A-Fa-f]{1,15})(;[\t\x20-\x7e\x80-\xff]*)?$/;

/** All values of a header (case-insensitive name) in a parsed response. */
export function header(res, name) {
  const lower = name.toLowerCase();
  return res.headers.filter(([n]) => n.toLowerCase() === lower).map(([, v]) => v);
}

/** True when the response says the connection ends after it (or is HTTP/1.0 without keep-alive). */
export function closes(res) {
  const tokens = header(res, 'connection')
    .join(',')
    .toLowerCase()
    .split(',')
    .map((t) => t.trim());
  return tokens.includes('close') || res.closeDelimited || (res.version === '1.0' && !tokens.includes('keep-alive'));
}

/**
 * One response starting at buf[at]. Returns { kind: 'ok', response, end },
 * { kind: 'need' } (incomplete; more may come), { kind: 'none' } (nothing
 * left at eof) or { kind: 'error', reason }. `head`: it answers a HEAD.
 */
export function parseResponse(buf, at, { head = false, eof = false } = {}) {
  const headEnd = buf.indexOf('\r\n\r\n', at);
  if (headEnd === -1) {
    if (buf.subarray(at).includes('\n\n')) return { kind: 'error', reason: 'head ends with a bare LF' };
    if (!eof) return { kind: 'need' };
    return at === buf.length
      ? { kind: 'none' }
      : {
          kind: 'error',
          reason: `incomplete head at close: ${JSON.stringify(buf.subarray(at, at + 200).toString('latin1'))}`,
        };
  }
  const lines = buf.subarray(at, headEnd).toString('latin1').split('\r\n');
  if (lines.some((l) => /[\r\n\0]/.test(l))) return { kind: 'error', reason: 'bare CR, LF or NUL in the head' };
  const m = STATUS_LINE.exec(lines[0]);
  if (!m) return { kind: 'error', reason: `bad status line ${JSON.stringify(lines[0])}` };
  const headers = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (colon < 1 || !TOKEN.test(name) || !FIELD_VALUE.test(value))
      return { kind: 'error', reason: `bad field line ${JSON.stringify(line)}` };
    headers.push([name, value]);
  }
  const response = {
    version: m[1],
    status: Number(m[2]),
    reason: m[3],
    headers,
    body: Buffer.alloc(0),
    closeDelimited: false,
  };
  return withBody(buf, headEnd + 4, response, { head, eof });
}

function withBody(buf, start, response, { head, eof }) {
  const te = header(response, 'transfer-encoding');
  const cl = header(response, 'content-length');
  const bodiless = response.status < 200 || response.status === 204 || response.status === 304;
  if (bodiless && (te.length || (cl.length && !cl.every((v) => v === '0'))))
    return { kind: 'error', reason: `a ${response.status} with a body framing` };
  if (bodiless || head) return { kind: 'ok', response, end: start };
  if (te.length) {
    if (cl.length) return { kind: 'error', reason: 'both Transfer-Encoding and Content-Length' };
    const codings = te
      .join(',')
      .split(',')
      .map((c) => c.trim().toLowerCase());
    if (codings.at(-1) !== 'chunked' || response.version !== '1.1')
      return { kind: 'error', reason: `Transfer-Encoding ${te.join(',')} on HTTP/${response.version}` };
    return chunkedBody(buf, start, response, eof);
  }
  if (cl.length) {
    if (!cl.every((v) => /^[0-9]{1,15}$/.test(v) && v === cl[0]))
      return { kind: 'error', reason: `bad Content-Length ${cl.join(',')}` };
    const end = start + Number(cl[0]);
    if (buf.length < end)
      return eof ? { kind: 'error', reason: 'body shorter than Content-Length at close' } : { kind: 'need' };
    return { kind: 'ok', response: { ...response, body: buf.subarray(start, end) }, end };
  }
  if (!eof) return { kind: 'need' };
  return { kind: 'ok', response: { ...response, body: buf.subarray(start), closeDelimited: true }, end: buf.length };
}

function chunkedBody(buf, at, response, eof) {
  const parts = [];
  const need = () => (eof ? { kind: 'error', reason: 'chunked body cut at close' } : { kind: 'need' });
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol === -1) return need();
    const m = CHUNK_LINE.exec(buf.subarray(at, eol).toString('latin1'));
    if (!m)
      return { kind: 'error', reason: `bad chunk line ${JSON.stringify(buf.subarray(at, eol).toString('latin1'))}` };
    const size = parseInt(m[1], 16);
    at = eol + 2;
    if (size === 0) break;
    if (buf.length < at + size + 2) return need();
    if (buf[at + size] !== 13 || buf[at + size + 1] !== 10)
      return { kind: 'error', reason: 'chunk data not followed by CRLF' };
    parts.push(buf.subarray(at, at + size));
    at += size + 2;
  }
  for (;;) {
    // trailer section, then the final CRLF
    const eol = buf.indexOf('\r\n', at);
    if (eol === -1) return need();
    const line = buf.subarray(at, eol).toString('latin1');
    at = eol + 2;
    if (line === '') return { kind: 'ok', response: { ...response, body: Buffer.concat(parts) }, end: at };
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e\x80-\xff]*$/.test(line))
      return { kind: 'error', reason: `bad trailer ${JSON.stringify(line)}` };
  }
}

/**
 * Every response in `buf`, in order: { responses, error, pending } where
 * pending is true when the last one is incomplete (only before eof).
 */
export function parseAll(buf, { eof = false, head = false } = {}) {
  const responses = [];
  for (let at = 0; ; ) {
    const r = parseResponse(buf, at, { head, eof });
    if (r.kind === 'ok') {
      responses.push(r.response);
      if (r.end === at) return { responses, error: 'empty response', pending: false };
      at = r.end;
      if (at === buf.length && !eof) return { responses, error: null, pending: false };
      continue;
    }
    if (r.kind === 'error') return { responses, error: r.reason, pending: false };
    return { responses, error: null, pending: r.kind === 'need' };
  }
}

/**
 * Sends `data` on a new connection and collects the answer. It ends when the
 * server closes (closed: true), when `finals` final responses have arrived
 * and the last one keeps the connection open (closed: false), when nothing
 * arrives for `idleMs` without `fin` (silent), or at `deadlineMs` (timedOut).
 * `fin`: half-close right after sending, as `nc -N` does. `pause`: ms to
 * wait between the pieces of an array `data`.
 */
export function exchange(
  port,
  data,
  { fin = false, finals = 1, idleMs = 1000, deadlineMs = 10_000, head = false, pause = 0 } = {},
) {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let raw = Buffer.alloc(0);
    let reset = false;
    let done = false;
    let idle;
    const finish = (how) => {
      if (done) return;
      done = true;
      clearTimeout(idle);
      clearTimeout(deadline);
      const closed = how === 'closed';
      const parsed = parseAll(raw, { eof: closed, head });
      socket.destroy();
      resolve({
        ...parsed,
        raw,
        closed,
        reset,
        silent: how === 'idle',
        timedOut: how === 'deadline',
        ms: Date.now() - started,
      });
    };
    const deadline = setTimeout(() => finish('deadline'), deadlineMs);
    const armIdle = () => {
      clearTimeout(idle);
      if (!fin) idle = setTimeout(() => finish('idle'), idleMs);
    };
    socket.on('error', () => (reset = true));
    socket.on('close', () => finish('closed'));
    socket.on('data', (chunk) => {
      raw = Buffer.concat([raw, chunk]);
      armIdle();
      const parsed = parseAll(raw, { head });
      if (parsed.error) return finish('error');
      const final = parsed.responses.filter((r) => r.status >= 200);
      if (!fin && !parsed.pending && final.length >= finals && !closes(final.at(-1))) finish('open');
    });
    socket.once('connect', async () => {
      for (const piece of Array.isArray(data) ? data : [data]) {
        if (done) return;
        socket.write(piece);
        if (pause) await new Promise((r) => setTimeout(r, pause));
      }
      if (fin) socket.end();
      armIdle();
    });
  });
}

/** The request bytes of a test case, from text where "\n" means CRLF unless raw. */
export function crlf(text) {
  return Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'latin1');
}
