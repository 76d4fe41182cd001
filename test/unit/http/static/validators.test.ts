// The validators a static file is sent with, the same numbers koa-send gets
// from fs.Stats (test/unit/http/static/file-cache.test.ts checks them against
// real files).
import { describe, expect, it } from 'vitest';
import { etagOf, msOf, validatorsOf } from '../../../../lib/http/static/validators.js';

describe('validators', () => {
  it('writes the strong ETag from size and whole milliseconds, in hex', () => {
    expect(etagOf(4, 1_600_000_000_500.7)).toBe(`"4-${(1_600_000_000_500).toString(16)}"`);
  });

  it('gives Last-Modified as the HTTP date of the rounded milliseconds', () => {
    expect(validatorsOf(10, 1_600_000_000_499.6)).toEqual({
      etag: etagOf(10, 1_600_000_000_499.6),
      lastModified: 'Sun, 13 Sep 2020 12:26:40 GMT',
    });
  });

  it('turns nanoseconds into milliseconds as fs.Stats does, before 1970 too', () => {
    expect(msOf(1_600_000_000_500_000_000n)).toBe(1_600_000_000_500);
    expect(msOf(-1_500_000_000n)).toBe(-1500);
  });
});
