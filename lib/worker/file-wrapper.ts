// wsgi.file_wrapper over a real file, on Node's side: the page names a file
// in a FILE frame (lib/worker/protocol.md), and Node opens it and sends its
// bytes to the client itself, without passing them through Python.
//
// Such an answer has a known length and, if the page set them, validators:
// so a GET with Range gets 206 (one range, or several as
// multipart/byteranges) or 416, If-Range is honoured, and a conditional GET
// whose ETag or Last-Modified matches gets 304, as for static files
// (lib/http/ranges.ts). For that, ./exchange.ts holds back the head of a 200
// to such a GET until it sees whether the body is a file (see holdsHead).
// Which file Node may open for the page: ./page-file-open.ts.

import type { FileHandle } from 'node:fs/promises';
import type { RunAs } from '../tenant/identity.js';
import { writeHead as writeHeadOn } from '../http/h2.js';
import type { ServerResponse } from 'node:http';
import { finished, type Readable, type Writable } from 'node:stream';
import { planMultipart, multipartStream, type MultipartPlan } from '../http/multipart.js';
import { contentRange, decide, unsatisfiedRange, type Decision } from '../http/ranges.js';
import { openPageFile, Refused } from './page-file-open.js';

/** What a FILE frame names: `length` bytes from `offset` (null: to the end). */
export interface PageFile {
  path: string;
  offset: number;
  length: number | null;
}

/** A page's status and headers, not yet written. */
export interface Head {
  status: number;
  reason: string;
  headers: [string, string][];
}

/** A request's FILE: whether Node is sending one now, and when what it sent is done. */
export class FileSend {
  /** From FILE until the file is sent, or Node could not open it (the page then sends it as BODY itself). */
  sending = false;
  /** Resolves once the last FILE's answer and bytes are done: END waits for it. */
  done: Promise<void> | null = null;

  /** Serves `file` (servePageFile), sending FILE_OPENED's object with `answer`. */
  start(file: PageFile, res: ServerResponse, answer: (opened: object) => void, how: FileSending): void {
    this.sending = true;
    const opened = (o: { ok: boolean }) => {
      this.sending = o.ok;
      answer(o);
    };
    this.done = servePageFile(file, res, opened, how).finally(() => (this.sending = false));
  }
}

/**
 * FILE's whole answer: opens the file, tells the page whether it could
 * (`answer`: FILE_OPENED's object) and, if so, sends it into `res`.
 * Resolves once the file is sent and closed, or could not be opened.
 */
export async function servePageFile(
  file: PageFile,
  res: ServerResponse,
  answer: (opened: { ok: boolean; error?: string }) => void,
  how: FileSending,
): Promise<void> {
  const handle = await openPageFile(file, how.runAs ?? null);
  if (handle instanceof Error) {
    if (handle instanceof Refused) how.log(`FILE ${JSON.stringify(file.path)} not sent: ${handle.why}`);
    return answer({ ok: false, error: handle.message });
  }
  answer({ ok: true });
  await sendPageFile(handle, file, res, how);
}

/**
 * Whether to hold the head of a page's answer until its body's first frame:
 * a 200 to a GET that asks for a range or is conditional, whose page set no
 * Content-Encoding, Content-Range or Accept-Ranges of its own (it handles
 * ranges itself, or its bytes are not the representation's).
 */
export function holdsHead(environ: Record<string, string>, head: Head): boolean {
  if (head.status !== 200 || environ.REQUEST_METHOD !== 'GET') return false;
  if (!environ.HTTP_RANGE && !environ.HTTP_IF_NONE_MATCH && !environ.HTTP_IF_MODIFIED_SINCE) return false;
  return !head.headers.some(([name]) => /^(content-encoding|content-range|accept-ranges)$/i.test(name));
}

/** Writes a held head as the page set it. */
export function writeHead(res: ServerResponse, head: Head): void {
  writeHeadOn(res, head.status, head.reason, head.headers.flat()); // HTTP/1 or HTTP/2
}

export interface FileSending {
  /** The request is over already: close the file and send nothing. */
  aborted: boolean;
  /** Takes the page's head if it was held for this file, to decide 200, 206, 304 or 416 (./exchange.ts); null: written already. */
  takeHeld?: () => Head | null;
  /** The request's environ: its Range and conditions. */
  environ?: Record<string, string>;
  /** Where the bytes go when not straight into `res`: the compressor of compress-pages. */
  into?: Writable | null;
  /** Bytes of the file as they go to the client. */
  counted(bytes: number): void;
  /** The user the page runs as (null or absent: none is switched): only a file it could read is sent. */
  runAs?: RunAs | null;
  /** A line for the error log: a file refused, or reading failed midway (the response is then destroyed). */
  log(problem: string): void;
}

/**
 * Sends the file's bytes into `res` without ending it; resolves once the
 * file is closed. With `held`, first writes the head the request's Range
 * and conditions call for (200, 206, 304 or 416) and sends what it says.
 */
export async function sendPageFile(
  handle: FileHandle,
  file: PageFile,
  res: ServerResponse,
  how: FileSending,
): Promise<void> {
  let source: PageFile | MultipartPlan | null = file;
  const held = how.takeHeld?.() ?? null;
  if (held && !res.headersSent) {
    const size = await representationSize(handle, file);
    const answer = answerFor(held, how.environ ?? {}, size);
    if (!res.destroyed) writeHead(res, answer.head);
    source = answer.send && 'pieces' in answer.send ? answer.send : answer.send && slice(file, answer.send);
  }
  if (source === null || (source as PageFile).length === 0 || how.aborted || res.destroyed)
    return void (await handle.close().catch(() => {}));
  return pipeInto(handle, readerOf(handle, file, source), res, how.into ?? res, how);
}

/** The representation's length: the bytes the page asked to send. */
async function representationSize(handle: FileHandle, file: PageFile): Promise<number> {
  const left = Math.max(0, (await handle.stat()).size - file.offset);
  return file.length === null ? left : Math.min(file.length, left);
}

function slice(file: PageFile, span: { start: number; end: number }): PageFile {
  return { path: file.path, offset: file.offset + span.start, length: span.end - span.start + 1 };
}

function readerOf(handle: FileHandle, file: PageFile, source: PageFile | MultipartPlan): Readable {
  if ('pieces' in source) {
    const read = (span: { start: number; end: number }) =>
      handle.createReadStream({ start: file.offset + span.start, end: file.offset + span.end, autoClose: false });
    return multipartStream(source, read);
  }
  const end = source.length === null ? undefined : source.offset + source.length - 1;
  return handle.createReadStream({ start: source.offset, end, autoClose: false });
}

/** Pipes `stream` into `into` (the response, or the compressor in front of it) without ending it; closes the file after. */
function pipeInto(
  handle: FileHandle,
  stream: Readable,
  res: ServerResponse,
  into: Writable,
  how: FileSending,
): Promise<void> {
  return new Promise((resolve) => {
    stream.on('data', (chunk: Buffer) => how.counted(chunk.length));
    // Ended, failed, or cut off by a client that left: the file is closed in every case.
    const stop = () => stream.destroy();
    res.once('close', stop);
    finished(stream, (err) => {
      res.off('close', stop);
      if (err && err.code !== 'ERR_STREAM_PREMATURE_CLOSE') {
        how.log(`sending file failed: ${err.message}`);
        res.destroy();
      }
      void handle
        .close()
        .catch(() => {})
        .finally(resolve);
    });
    stream.pipe(into, { end: false });
  });
}

/** The head to write for a held 200 of `size` bytes, and what body to send: a span, the parts, or nothing. */
export function answerFor(
  held: Head,
  environ: Record<string, string>,
  size: number,
): { head: Head; send: { start: number; end: number } | MultipartPlan | null } {
  const get = (name: string) => held.headers.find(([n]) => n.toLowerCase() === name)?.[1];
  const decision = decide('GET', requestHeaders(environ), size, {
    etag: get('etag'),
    lastModified: get('last-modified'),
  });
  const keep = held.headers.filter(([n]) => !/^content-length$/i.test(n));
  return shaped(decision, { ...held, headers: keep }, size, get('content-type') ?? 'application/octet-stream');
}

function shaped(decision: Decision, held: Head, size: number, type: string) {
  const head = (status: number, reason: string, ...extra: [string, string][]): Head => ({
    status,
    reason,
    headers: [...held.headers, ['Accept-Ranges', 'bytes'], ...extra],
  });
  switch (decision.kind) {
    case 'full':
      return { head: head(200, held.reason, ['Content-Length', String(size)]), send: { start: 0, end: size - 1 } };
    case 'not-modified':
      return { head: { status: 304, reason: 'Not Modified', headers: withoutBodyHeaders(held.headers) }, send: null };
    case 'unsatisfiable':
      return {
        head: head(416, 'Range Not Satisfiable', ['Content-Range', unsatisfiedRange(size)], ['Content-Length', '0']),
        send: null,
      };
    case 'partial':
      return partial(decision.spans, size, type, head);
  }
}

function partial(
  spans: { start: number; end: number }[],
  size: number,
  type: string,
  head: (status: number, reason: string, ...extra: [string, string][]) => Head,
) {
  if (spans.length === 1) {
    const [span] = spans;
    const length = String(span.end - span.start + 1);
    return {
      head: head(206, 'Partial Content', ['Content-Range', contentRange(span, size)], ['Content-Length', length]),
      send: span,
    };
  }
  const plan = planMultipart(spans, size, type);
  const h = head(206, 'Partial Content', ['Content-Length', String(plan.length)]);
  h.headers = h.headers.filter(([n]) => !/^content-type$/i.test(n)).concat([['Content-Type', plan.contentType]]);
  return { head: h, send: plan };
}

/** A 304 carries the validators and caching headers, not the body's (RFC 9110 15.4.5). */
function withoutBodyHeaders(headers: [string, string][]): [string, string][] {
  return headers.filter(([n]) => !/^(content-type|content-length|content-language)$/i.test(n));
}

/** The request headers ranges.ts reads, back from the environ's HTTP_* variables. */
function requestHeaders(environ: Record<string, string>): Record<string, string | undefined> {
  return {
    range: environ.HTTP_RANGE,
    'if-range': environ.HTTP_IF_RANGE,
    'if-none-match': environ.HTTP_IF_NONE_MATCH,
    'if-modified-since': environ.HTTP_IF_MODIFIED_SINCE,
    'cache-control': environ.HTTP_CACHE_CONTROL,
  };
}
