// A URL path's bytes: decoding pieces, their two forms, encoding a Location.
// The URL rules built on them are test/unit/http/resolve.test.ts.
import { describe, expect, it } from 'vitest';
import {
  decodePiece,
  encodeBytes,
  encodeText,
  joinLatin1,
  joinNames,
  SAFE_PATH,
  SAFE_QUERY,
  toSegment,
} from '../../../lib/http/url-path.js';

describe('decodePiece', () => {
  it('percent-decodes to bytes, latin-1 characters standing for bytes', () => {
    expect(decodePiece('caf%C3%A9')).toEqual(Buffer.from('café', 'utf8'));
    expect(decodePiece('a\u00e9')).toEqual(Buffer.from([0x61, 0xe9]));
    expect(decodePiece('%2f')).toEqual(Buffer.from('/'));
  });

  it('says why a piece is malformed', () => {
    expect(decodePiece('%zz')).toBe('malformed percent-encoding');
    expect(decodePiece('%4')).toBe('malformed percent-encoding');
    expect(decodePiece('a%00')).toBe('nul byte in path');
    expect(decodePiece('a%0a')).toBe('control character in path');
    expect(decodePiece('a%7F')).toBe('control character in path');
    expect(decodePiece('\u0100')).toBe('non-latin-1 character in raw path');
  });
});

describe('toSegment', () => {
  it('gives the latin-1 form, and the UTF-8 name or null', () => {
    expect(toSegment(Buffer.from('café', 'utf8'))).toMatchObject({ latin1: 'caf\u00c3\u00a9', name: 'café' });
    expect(toSegment(Buffer.from([0xff])).name).toBeNull();
  });
});

describe('encoding a Location', () => {
  it('keeps safe ASCII, encodes the rest and always "#"', () => {
    expect(encodeBytes(Buffer.from('a b#c/é', 'utf8'), SAFE_PATH)).toBe('a%20b%23c%2F%C3%A9');
    expect(encodeText('x=1&y=a b#', SAFE_QUERY)).toBe('x=1&y=a%20b%23');
    expect(encodeText('\u00e9', SAFE_QUERY)).toBe('%E9');
    expect(encodeText('\u0100', SAFE_QUERY)).toBe('%C4%80');
  });

  it('joins segments with one leading slash each', () => {
    const segs = [toSegment(Buffer.from('a')), toSegment(Buffer.from('é', 'utf8'))];
    expect(joinLatin1(segs)).toBe('/a/\u00c3\u00a9');
    expect(joinNames(segs)).toBe('/a/é');
    expect(joinLatin1([])).toBe('');
  });
});
