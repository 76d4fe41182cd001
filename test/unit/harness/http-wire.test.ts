// The judges of the fuzzer, the corpus and the abort sweep: the strict
// response parser and the corpus file format must refuse and read exactly
// what they claim to.
import { describe, expect, it } from 'vitest';
import { parseEntry, requestBytes } from '../../harness/corpus.mjs';
import { parseAll, parseResponse } from '../../harness/http-wire.mjs';

const wire = (s: string) => Buffer.from(s, 'latin1');
const statuses = (s: string, eof = true) =>
  parseAll(wire(s), { eof }).responses.map((r: { status: number }) => r.status);
const error = (s: string) => parseAll(wire(s), { eof: true }).error;

describe('strict response parser', () => {
  it('reads Content-Length, chunked, close-delimited and interim responses in order', () => {
    expect(statuses('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi')).toEqual([100, 200]);
    const chunked = parseAll(
      wire('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nhi\r\n0\r\nT: 1\r\n\r\n'),
      { eof: true },
    );
    expect(chunked.responses[0].body.toString()).toBe('hi');
    expect(
      parseAll(wire('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'), { eof: true }).responses[0]
        .closeDelimited,
    ).toBe(true);
    expect(parseResponse(wire('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n'), 0, { head: true }).kind).toBe('ok');
  });

  it('waits for more before the end, and calls a cut body an error at the end', () => {
    expect(parseResponse(wire('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhi'), 0).kind).toBe('need');
    expect(error('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhi')).toMatch(/shorter/);
    expect(error('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhi')).toMatch(/cut/);
  });

  it('refuses what a lenient client would repair', () => {
    expect(error('HTTP/1.1 200 OK\nContent-Length: 0\n\n')).toMatch(/bare LF/);
    expect(error('HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n')).toMatch(/field line/);
    expect(error('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')).toMatch(
      /both/,
    );
    expect(error('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab')).toMatch(/Content-Length/);
    expect(error('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')).toMatch(/chunk line/);
    expect(error('HTTP/1.1 600 Nope\r\n\r\n')).toMatch(/status line/);
    expect(error('HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\nabc')).toMatch(/204/);
  });
});

describe('corpus file format', () => {
  it('sends CRLF for newlines, honours escapes, line joins and repeats', () => {
    expect(requestBytes('GET / HTTP/1.1\nA: \\x41\\0\\\\\n\nbody\\\n').toString('latin1')).toBe(
      'GET / HTTP/1.1\r\nA: A\0\\\r\n\r\nbody',
    );
    expect(requestBytes('a\\nb\n', false).toString('latin1')).toBe('a\nb\r\n');
    expect(requestBytes('x\n', true).toString('latin1')).toBe('x\n');
    expect(requestBytes('{{repeat 3 ab}}\\\n').toString('latin1')).toBe('ababab');
  });

  it('reads the metadata and the alternatives of "expect"', () => {
    const e = parseEntry('x.http', '# expect: 400 closed | closed | 100 200\n# fin: yes\nGET / HTTP/1.1\n\n');
    expect(e.expect).toEqual([
      { statuses: [400], closed: true },
      { statuses: [], closed: true },
      { statuses: [100, 200], closed: false },
    ]);
    expect(e.fin).toBe(true);
    expect(() => parseEntry('y.http', '# expect: 99\nGET /\n')).toThrow(/bad expect/);
  });
});
