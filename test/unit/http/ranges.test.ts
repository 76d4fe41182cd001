import { describe, expect, it } from 'vitest';
import { multipartFromBuffer, planMultipart } from '../../../lib/http/multipart.js';
import { contentRange, decide, ifRangeHolds, MAX_RANGES, unsatisfiedRange } from '../../../lib/http/ranges.js';

const V = { etag: '"64-18c"', lastModified: 'Wed, 02 Dec 2026 10:00:00 GMT' };
const get = (headers: Record<string, string>, size = 100) => decide('GET', headers, size, V);

describe('decide', () => {
  it.each([
    ['no Range', {}, { kind: 'full' }],
    ['one range', { range: 'bytes=0-9' }, { kind: 'partial', spans: [{ start: 0, end: 9 }] }],
    ['an open range', { range: 'bytes=90-' }, { kind: 'partial', spans: [{ start: 90, end: 99 }] }],
    ['a suffix', { range: 'bytes=-10' }, { kind: 'partial', spans: [{ start: 90, end: 99 }] }],
    [
      'a suffix longer than the file: all of it',
      { range: 'bytes=-500' },
      { kind: 'partial', spans: [{ start: 0, end: 99 }] },
    ],
    ['an end past the file, clamped', { range: 'bytes=95-500' }, { kind: 'partial', spans: [{ start: 95, end: 99 }] }],
    ['the unit in another case', { range: 'Bytes=0-0' }, { kind: 'partial', spans: [{ start: 0, end: 0 }] }],
    [
      'two ranges',
      { range: 'bytes=0-0,-1' },
      {
        kind: 'partial',
        spans: [
          { start: 0, end: 0 },
          { start: 99, end: 99 },
        ],
      },
    ],
    ['overlapping ranges merged', { range: 'bytes=0-10,5-20' }, { kind: 'partial', spans: [{ start: 0, end: 20 }] }],
    ['a start past the end', { range: 'bytes=100-' }, { kind: 'unsatisfiable' }],
    ['a zero suffix', { range: 'bytes=-0' }, { kind: 'unsatisfiable' }],
    ['malformed: ignored', { range: 'bytes=abc' }, { kind: 'full' }],
    ['no "=": ignored', { range: 'bytes' }, { kind: 'full' }],
    ['another unit: ignored', { range: 'items=0-1' }, { kind: 'full' }],
    ['If-None-Match matching', { 'if-none-match': V.etag, range: 'bytes=0-1' }, { kind: 'not-modified' }],
    ['If-None-Match weakly matching', { 'if-none-match': `W/${V.etag}` }, { kind: 'not-modified' }],
    ['If-None-Match *', { 'if-none-match': '*' }, { kind: 'not-modified' }],
    ['If-None-Match another tag', { 'if-none-match': '"x"' }, { kind: 'full' }],
    ['If-Modified-Since equal', { 'if-modified-since': V.lastModified }, { kind: 'not-modified' }],
    ['If-Modified-Since earlier', { 'if-modified-since': 'Wed, 02 Dec 2026 09:00:00 GMT' }, { kind: 'full' }],
    ['no-cache beats validators', { 'if-none-match': V.etag, 'cache-control': 'no-cache' }, { kind: 'full' }],
    [
      'If-Range with the ETag',
      { range: 'bytes=0-1', 'if-range': V.etag },
      { kind: 'partial', spans: [{ start: 0, end: 1 }] },
    ],
    ['If-Range with another ETag', { range: 'bytes=0-1', 'if-range': '"old"' }, { kind: 'full' }],
    [
      'If-Range with the date',
      { range: 'bytes=0-1', 'if-range': V.lastModified },
      { kind: 'partial', spans: [{ start: 0, end: 1 }] },
    ],
    [
      'If-Range with another date',
      { range: 'bytes=0-1', 'if-range': 'Wed, 02 Dec 2026 09:00:00 GMT' },
      { kind: 'full' },
    ],
  ])('%s', (_name, headers, expected) => {
    expect(get(headers as Record<string, string>)).toEqual(expected);
  });

  it('ignores Range on HEAD (RFC 9110 14.2: defined for GET only)', () => {
    expect(decide('HEAD', { range: 'bytes=0-1' }, 100, V)).toEqual({ kind: 'full' });
  });

  it('answers 416 to any range of an empty file', () => {
    expect(get({ range: 'bytes=0-' }, 0)).toEqual({ kind: 'unsatisfiable' });
  });

  it(`sends the whole file for more than ${MAX_RANGES} ranges`, () => {
    const many = Array.from({ length: MAX_RANGES + 1 }, (_, i) => `${i * 2}-${i * 2}`).join(',');
    expect(get({ range: `bytes=${many}` }, 1000)).toEqual({ kind: 'full' });
  });
});

describe('ifRangeHolds', () => {
  it('never holds for a weak tag, even the same', () => {
    expect(ifRangeHolds('W/"a"', { etag: 'W/"a"' })).toBe(false);
  });
  it('does not hold for a date when there is no Last-Modified', () => {
    expect(ifRangeHolds(V.lastModified, { etag: V.etag })).toBe(false);
  });
  it('does not hold for garbage', () => {
    expect(ifRangeHolds('yesterday', V)).toBe(false);
  });
});

describe('Content-Range', () => {
  it('writes a span and a 416', () => {
    expect(contentRange({ start: 0, end: 9 }, 100)).toBe('bytes 0-9/100');
    expect(unsatisfiedRange(100)).toBe('bytes */100');
  });
});

describe('multipart/byteranges', () => {
  it('frames each part with its type and range, and says its length', () => {
    const body = Buffer.from('0123456789');
    const plan = planMultipart(
      [
        { start: 0, end: 1 },
        { start: 8, end: 9 },
      ],
      10,
      'text/plain',
    );
    const boundary = /boundary=(\w+)$/.exec(plan.contentType)![1];
    const out = multipartFromBuffer(plan, body).toString();
    expect(out).toBe(
      `\r\n--${boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/10\r\n\r\n01` +
        `\r\n--${boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes 8-9/10\r\n\r\n89` +
        `\r\n--${boundary}--\r\n`,
    );
    expect(plan.length).toBe(Buffer.byteLength(out));
  });
});
