// Live reload's script, put into an HTML answer on its way out. Works on the
// node:http response itself (as the compression middleware of Express does),
// so it serves a page's streamed answer, a static file from memory or from
// disk, and an error page alike: the decision is taken when the head is
// written, from its status and headers; the script goes in before the first
// "</body" seen within one written piece, else at the end. Content-Length,
// when the answer has one, grows by the script's length.

import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { cspForbids } from './csp.js';

type HeadersArg = OutgoingHttpHeaders | (string | string[])[] | [string, string][] | undefined;

/** What an answer is, for the decision: its status and headers (names lower-case). */
export interface AnswerHead {
  status: number;
  headers: [string, string][];
}

/**
 * Why `head` does not get the script ('' when it is simply not an HTML
 * document: no log line for that), or null when it does.
 */
export function refusal(head: AnswerHead): string | null {
  const { status, headers } = head;
  if (status < 200 || status === 204 || status === 206 || (status >= 300 && status < 400)) return '';
  const get = (name: string) => headers.filter(([n]) => n === name).map(([, v]) => v);
  const type = get('content-type')[0] ?? '';
  if (!/^\s*(?:text\/html|application\/xhtml\+xml)\b/i.test(type)) return '';
  // An ASCII script cannot go into UTF-16 or UTF-32 bytes; encoded bytes cannot be searched.
  if (/charset\s*=\s*"?utf-?(?:16|32)/i.test(type) || get('content-encoding').some((v) => v.trim() !== 'identity'))
    return '';
  return cspForbids(get('content-security-policy'));
}

/**
 * Puts `snippet` into `res`'s answer if it turns out to be an HTML document
 * that allows it; `refused(reason)` is told when an HTML answer does not get
 * it. Call before anything is written.
 */
export function injectInto(res: ServerResponse, snippet: string, refused: (reason: string) => void): void {
  const extra = Buffer.from(snippet, 'utf8');
  const writeHead = res.writeHead;
  const state: State = { looking: false };
  res.writeHead = function (this: ServerResponse, status: number, ...rest: unknown[]) {
    const args = rest as [string | HeadersArg, HeadersArg?];
    const headersAt = typeof args[0] === 'string' ? 1 : 0;
    const headers = args[headersAt] as HeadersArg;
    const why = refusal({ status, headers: [...ownHeaders(res), ...argHeaders(headers)] });
    if (why === null) {
      state.looking = true;
      args[headersAt] = grownLength(res, headers, extra.length);
    } else if (why) refused(why);
    return (writeHead as (...a: unknown[]) => ServerResponse).call(this, status, ...args);
  } as ServerResponse['writeHead'];
  patchBody(res, extra, state);
}

function ownHeaders(res: ServerResponse): [string, string][] {
  return Object.entries(res.getHeaders()).flatMap(([n, v]) =>
    v === undefined ? [] : (Array.isArray(v) ? v : [v]).map((x) => [n, String(x)] as [string, string]),
  );
}

/** writeHead's headers argument as [lower-case name, value] pairs: an object, a flat array, or an array of pairs. */
function argHeaders(headers: HeadersArg): [string, string][] {
  if (!headers) return [];
  if (!Array.isArray(headers)) return ownHeaders({ getHeaders: () => headers } as unknown as ServerResponse);
  if (headers.length && Array.isArray(headers[0]))
    return (headers as [string, string][]).map(([n, v]) => [n.toLowerCase(), String(v)]);
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < headers.length; i += 2)
    pairs.push([String(headers[i]).toLowerCase(), String(headers[i + 1])]);
  return pairs;
}

/** Content-Length plus `more`, wherever it was set; returns the headers argument to pass on. */
function grownLength(res: ServerResponse, headers: HeadersArg, more: number): HeadersArg {
  const grow = (v: unknown) => String(Number(v) + more);
  if (res.hasHeader('content-length')) res.setHeader('Content-Length', grow(res.getHeader('content-length')));
  if (!headers) return headers;
  if (!Array.isArray(headers))
    return Object.fromEntries(
      Object.entries(headers).map(([n, v]) => [n, n.toLowerCase() === 'content-length' ? grow(v) : v]),
    );
  if (headers.length && Array.isArray(headers[0]))
    return (headers as [string, string][]).map(([n, v]) => [n, n.toLowerCase() === 'content-length' ? grow(v) : v]);
  const flat = [...headers] as string[];
  for (let i = 0; i + 1 < flat.length; i += 2)
    if (flat[i].toLowerCase() === 'content-length') flat[i + 1] = grow(flat[i + 1]);
  return flat;
}

const BODY_END = /<\/body[\s>]/i;

/** Whether the script is still to be put in. */
interface State {
  looking: boolean;
}

/** `chunk` with the script before its "</body", if it holds one and the script is still to be put in. */
function withScript(chunk: unknown, encoding: unknown, extra: Buffer, state: State): unknown {
  if (!state.looking || chunk === undefined || chunk === null || typeof chunk === 'function') return chunk;
  const buf = Buffer.isBuffer(chunk)
    ? chunk
    : Buffer.from(chunk as string, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  const at = buf.toString('latin1').search(BODY_END);
  if (at === -1) return buf;
  state.looking = false;
  return Buffer.concat([buf.subarray(0, at), extra, buf.subarray(at)]);
}

/** Wraps write and end: the first piece holding "</body" gets the script before it; else end() adds it. */
function patchBody(res: ServerResponse, extra: Buffer, state: State): void {
  const write = res.write as (...a: unknown[]) => boolean;
  const end = res.end as (...a: unknown[]) => ServerResponse;
  res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    // Node would write the head from inside write(): decide first, so this piece is looked at.
    if (!this.headersSent) this.writeHead(this.statusCode);
    const piece = withScript(chunk, rest[0], extra, state);
    return write.call(this, piece, ...(piece === chunk ? rest : dropEncoding(rest)));
  } as ServerResponse['write'];
  res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
    if (typeof chunk === 'function') [chunk, rest] = [undefined, [chunk]];
    if (!this.headersSent) this.writeHead(this.statusCode);
    let piece = withScript(chunk, rest[0], extra, state);
    if (state.looking) {
      state.looking = false;
      piece = Buffer.concat([piece === undefined || piece === null ? Buffer.alloc(0) : (piece as Buffer), extra]);
    }
    return end.call(this, piece, ...(piece === chunk ? rest : dropEncoding(rest)));
  } as ServerResponse['end'];
}

/** write/end's arguments after the chunk, once the chunk became a Buffer: the encoding no longer applies. */
function dropEncoding(rest: unknown[]): unknown[] {
  return typeof rest[0] === 'string' ? rest.slice(1) : rest;
}
