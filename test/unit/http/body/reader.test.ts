// BodyReader: bounded reads of a request body, made late, and draining.
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BodyReader } from '../../../../lib/http/body/reader.js';

describe('BodyReader', () => {
  it('reads at most `max` bytes at a time, then an empty buffer at the end', async () => {
    const r = new BodyReader(Readable.from([Buffer.from('abcdef')], { objectMode: false }));
    expect(String(await r.read(4))).toBe('abcd');
    expect(String(await r.read(4))).toBe('ef');
    expect((await r.read(4)).length).toBe(0);
  });

  it('made after the stream ended, reads nothing', async () => {
    const s = new PassThrough();
    s.end();
    s.resume();
    await new Promise((r) => s.once('end', r));
    expect((await new BodyReader(s).read(10)).length).toBe(0);
  });

  it('made after the client left, fails the read', async () => {
    const s = new PassThrough();
    s.destroy();
    await new Promise((r) => s.once('close', r));
    await expect(new BodyReader(s).read(10)).rejects.toThrow(/closed the connection/);
  });

  it('drain() ends a read that waits and makes the rest of the body flow away', async () => {
    const s = new PassThrough();
    const r = new BodyReader(s);
    const waiting = r.read(10);
    r.drain();
    expect((await waiting).length).toBe(0);
    s.write(Buffer.alloc(100_000));
    s.end();
    await new Promise((done) => s.once('end', done)); // it only ends if the data was consumed
    expect((await r.read(10)).length).toBe(0);
  });
});
