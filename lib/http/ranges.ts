// Conditional and range requests (RFC 9110 13 and 14) over a representation
// whose length and validators are known before its first byte is sent: a
// static file (./static/send.ts) or a page's wsgi.file_wrapper answer
// (lib/worker/file-wrapper.ts). Pure: headers in, a decision out. The Range
// header is parsed by range-parser (what Express's send uses), 304s are
// decided by fresh (what Koa's ctx.fresh uses).

import fresh from 'fresh';
import parseRange from 'range-parser';

/** A byte span, both ends included (as Content-Range writes it). */
export interface Span {
  start: number;
  end: number;
}

/** The response's validators, as it will send them (either may be absent). */
export interface Validators {
  etag?: string;
  lastModified?: string;
}

export type Decision =
  | { kind: 'full' }
  | { kind: 'not-modified' }
  | { kind: 'partial'; spans: Span[] }
  | { kind: 'unsatisfiable' };

/**
 * More ranges than this in one request get the whole representation (200),
 * as Apache's MaxRanges does: a thousand tiny parts cost more to frame than
 * the bytes they carry. Overlapping and adjacent ranges are merged first, so
 * asking for the same bytes many times cannot multiply the answer.
 */
export const MAX_RANGES = 64;

type Headers = Record<string, string | string[] | undefined>;

/**
 * What to answer a GET or HEAD of a representation of `size` bytes whose
 * 200 would carry `validators`: 304 when the client's copy is current
 * (If-None-Match, else If-Modified-Since; never with Cache-Control:
 * no-cache), 206 with the spans asked for, 416 when none of them is in
 * range, else the whole (also for a Range that is malformed, in another
 * unit, or whose If-Range does not match). Range is defined for GET only
 * (RFC 9110 14.2): HEAD gets the headers of the whole representation.
 */
export function decide(method: string, headers: Headers, size: number, validators: Validators): Decision {
  if (isFresh(headers, validators)) return { kind: 'not-modified' };
  const range = headers.range;
  if (method !== 'GET' || typeof range !== 'string') return { kind: 'full' };
  if (!ifRangeHolds(headers['if-range'], validators)) return { kind: 'full' };
  const spans = parseRange(size, clampSuffixes(range, size), { combine: true });
  if (spans === -1) return { kind: 'unsatisfiable' };
  if (spans === -2 || spans.type.toLowerCase() !== 'bytes' || spans.length > MAX_RANGES) return { kind: 'full' };
  return { kind: 'partial', spans: spans.map(({ start, end }) => ({ start, end })) };
}

function isFresh(headers: Headers, validators: Validators): boolean {
  if (headers['if-none-match'] === undefined && headers['if-modified-since'] === undefined) return false;
  return fresh(headers, { etag: validators.etag, 'last-modified': validators.lastModified });
}

/**
 * If-Range: the range applies only if the client's copy is this one. An
 * entity tag must match strongly (a weak one never does); a date must equal
 * Last-Modified exactly (RFC 9110 13.1.5).
 */
export function ifRangeHolds(ifRange: string | string[] | undefined, validators: Validators): boolean {
  if (ifRange === undefined) return true;
  if (typeof ifRange !== 'string') return false;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith('W/')) {
    return !value.startsWith('W/') && validators.etag !== undefined && value === validators.etag;
  }
  if (validators.lastModified === undefined) return false;
  const date = Date.parse(value);
  return !Number.isNaN(date) && date === Date.parse(validators.lastModified);
}

/**
 * "bytes=-N" with N larger than the representation means all of it (RFC
 * 9110 14.1.3); range-parser would call it unsatisfiable.
 */
function clampSuffixes(range: string, size: number): string {
  return range.replace(/(=|,)\s*-0*(\d+)\s*(?=,|$)/g, (whole, sep: string, n: string) =>
    Number(n) > size && size > 0 ? `${sep}0-` : whole,
  );
}

/** Content-Range of one span of a representation of `size` bytes. */
export function contentRange(span: Span, size: number): string {
  return `bytes ${span.start}-${span.end}/${size}`;
}

/** Content-Range of a 416: the representation's length only. */
export function unsatisfiedRange(size: number): string {
  return `bytes */${size}`;
}
