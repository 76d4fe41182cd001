import { randomBytes } from 'node:crypto';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { chooseEncoding, isCompressible } from '../../../../lib/http/compression.js';
import { CompressedCache, MAX_COMPRESS_BYTES } from '../../../../lib/http/static/compressed.js';

const text = (n: number) => Buffer.from('static files compress well. '.repeat(Math.ceil(n / 28)).slice(0, n));

function loader(body: Buffer | null) {
  const calls = { n: 0 };
  return {
    calls,
    load: async () => {
      calls.n++;
      return body;
    },
  };
}

describe('CompressedCache', () => {
  it('compresses a version once, for every request of it, and decompresses to the file', async () => {
    const cache = new CompressedCache();
    const body = text(10_000);
    const { calls, load } = loader(body);
    const [a, b] = await Promise.all([cache.get('/f', '"1"', 'br', load), cache.get('/f', '"1"', 'br', load)]);
    expect(a).toBe(b);
    expect(brotliDecompressSync(a!)).toEqual(body);
    expect(gunzipSync((await cache.get('/f', '"1"', 'gzip', load))!)).toEqual(body);
    expect(calls.n).toBe(2); // once per encoding
    await cache.get('/f', '"1"', 'br', load);
    expect(calls.n).toBe(2);
  });

  it('makes a new copy for a new version and forgets the old one', async () => {
    const cache = new CompressedCache();
    await cache.get('/f', '"1"', 'br', loader(text(5000)).load);
    const newer = text(6000);
    expect(brotliDecompressSync((await cache.get('/f', '"2"', 'br', loader(newer).load))!)).toEqual(newer);
    expect(cache.size.entries).toBe(1);
  });

  it('remembers that a file does not shrink, without trying again', async () => {
    const cache = new CompressedCache();
    const { calls, load } = loader(randomBytes(5000));
    expect(await cache.get('/r', '"1"', 'gzip', load)).toBeNull();
    expect(await cache.get('/r', '"1"', 'gzip', load)).toBeNull();
    expect(calls.n).toBe(1);
  });

  it('answers null for a file it cannot read or that is too large', async () => {
    const cache = new CompressedCache();
    expect(await cache.get('/gone', '"1"', 'br', loader(null).load)).toBeNull();
    const failing = async (): Promise<Buffer> => {
      throw new Error('EIO');
    };
    expect(await cache.get('/bad', '"1"', 'br', failing)).toBeNull();
    expect(await cache.get('/big', '"1"', 'gzip', loader(Buffer.alloc(MAX_COMPRESS_BYTES + 1)).load)).toBeNull();
  });

  it('keeps within its budget, dropping the least recently used first', async () => {
    const cache = new CompressedCache(4000);
    const body = randomBytes(1500).toString('hex').slice(0, 3000); // hex: compresses to about half
    for (const name of ['/a', '/b', '/c']) await cache.get(name, '"1"', 'gzip', loader(Buffer.from(body)).load);
    await new Promise((r) => setImmediate(r));
    expect(cache.size.bytes).toBeLessThanOrEqual(4000);
    const { calls, load } = loader(Buffer.from(body));
    await cache.get('/c', '"1"', 'gzip', load);
    expect(calls.n).toBe(0); // the most recent is kept
    await cache.get('/a', '"1"', 'gzip', load);
    expect(calls.n).toBe(1); // the oldest was dropped
  });
});

describe('chooseEncoding', () => {
  it.each([
    [undefined, null],
    ['gzip, deflate, br, zstd', 'br'],
    ['gzip', 'gzip'],
    ['br;q=0.5, gzip', 'gzip'],
    ['identity', null],
    ['gzip;q=0, br;q=0', null],
    ['*', 'br'],
  ])('%s → %s', (header, expected) => {
    expect(chooseEncoding(header === undefined ? {} : { 'accept-encoding': header })).toBe(expected);
  });
});

describe('isCompressible', () => {
  it.each([
    ['text/css; charset=utf-8', true],
    ['application/javascript; charset=utf-8', true],
    ['application/json', true],
    ['image/svg+xml', true],
    ['image/png', false],
    ['application/zip', false],
    ['video/mp4', false],
    ['application/octet-stream', false],
    [undefined, false],
  ])('%s → %s', (type, expected) => {
    expect(isCompressible(type)).toBe(expected);
  });
});
