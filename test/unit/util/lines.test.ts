// Lines of a stream: text lines for the log, byte lines for the fork server's events.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ByteLines, onByteLines, onLines } from '../../../lib/util/lines.js';
import { waitFor } from '../../helpers.js';

describe('onLines', () => {
  it('splits text across chunks, drops a trailing CR, cuts an overlong line into pieces, and keeps the last line', async () => {
    const stream = new PassThrough();
    const lines: string[] = [];
    onLines(stream, (l) => lines.push(l), 4);
    stream.write('ab');
    stream.write('c\r\nde\n0123456789');
    stream.end('x');
    await new Promise((r) => stream.once('end', r));
    expect(lines).toEqual(['abc', 'de', '0123', '4567', '89x']);
  });
});

describe('ByteLines', () => {
  const split = (chunks: (string | Buffer)[], max = 8) => {
    const out: (string | number)[] = [];
    const lines = new ByteLines(
      max,
      (l) => out.push(l.toString('latin1')),
      (n) => out.push(n),
    );
    for (const c of chunks) lines.push(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
    lines.end();
    return out;
  };

  it('gives each line without its newline, across chunks, and a last line without one', () => {
    expect(split(['ab', 'c\nd', 'e\n\nf'])).toEqual(['abc', 'de', '', 'f']);
  });

  it('keeps the bytes as they came: nothing is decoded or replaced', () => {
    const [line] = split([Buffer.from([0x7b, 0xff, 0xfe, 0x0a])]) as string[];
    expect(Buffer.from(line, 'latin1')).toEqual(Buffer.from([0x7b, 0xff, 0xfe]));
  });

  it('reports a line over the limit once, and skips it to its newline', () => {
    expect(split(['0123', '45678', '9abc', 'def\nok\n'])).toEqual([9, 'ok']);
    expect(split(['0123456789\nok\n'])).toEqual([10, 'ok']);
    expect(split(['01234567\n'])).toEqual(['01234567']);
  });
});

describe('onByteLines', () => {
  it('reads a stream as ByteLines does', async () => {
    const stream = new PassThrough();
    const out: (string | number)[] = [];
    onByteLines(
      stream,
      4,
      (l) => out.push(l.toString()),
      (n) => out.push(n),
    );
    stream.write('a\nbbbbbb');
    stream.end('b\nc');
    await new Promise((r) => stream.once('end', r));
    expect(out).toEqual(['a', 6, 'c']);
  });
});

describe('onLines: a line without its newline', () => {
  it('is passed on after partialMs, and the rest of it later as its own line', async () => {
    const stream = new PassThrough();
    const got: string[] = [];
    onLines(stream, (l) => got.push(l), 1024, 30);
    stream.write('Your name? ');
    expect(got).toEqual([]); // not at once: the newline may be on its way
    await waitFor(() => got.length === 1, 'the prompt');
    expect(got).toEqual(['Your name? ']);
    stream.write('a\nb');
    stream.end();
    await new Promise((r) => stream.on('end', r));
    expect(got).toEqual(['Your name? ', 'a', 'b']);
  });
});
