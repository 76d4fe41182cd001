import { mkdtempSync, realpathSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ResolveCache } from '../../lib/resolve-cache.js';

let root: string;
beforeEach(() => (root = realpathSync(mkdtempSync(join(tmpdir(), 'pypages-cache-')))));
afterEach(() => {
  vi.useRealTimers();
  rmSync(root, { recursive: true, force: true });
});

const APP = 'def application(e, s):\n    pass\n';

describe('ResolveCache', () => {
  it('remembers a page for a moment, then looks again', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const cache = new ResolveCache(root, { index: ['index.py'] });
    writeFileSync(join(root, 'a.py'), APP);
    return (async () => {
      expect((await cache.resolve('/a.py', '')).kind).toBe('script');
      unlinkSync(join(root, 'a.py'));
      expect((await cache.resolve('/a.py', '')).kind).toBe('script'); // within the second
      vi.advanceTimersByTime(1001);
      expect((await cache.resolve('/a.py', '')).kind).toBe('not-found');
    })();
  });

  it('never remembers a 404: a page created right after is found at once', async () => {
    const cache = new ResolveCache(root, { index: ['index.py'] });
    expect((await cache.resolve('/new.py', '')).kind).toBe('not-found');
    writeFileSync(join(root, 'new.py'), APP);
    expect((await cache.resolve('/new.py', '')).kind).toBe('script');
  });

  it('never remembers a static file (koa-static opens it by path again: a swapped link must be checked)', async () => {
    const cache = new ResolveCache(root, { index: ['index.py'] });
    writeFileSync(join(root, 'a.txt'), 'a');
    expect((await cache.resolve('/a.txt', '')).kind).toBe('static');
    unlinkSync(join(root, 'a.txt'));
    expect((await cache.resolve('/a.txt', '')).kind).toBe('not-found');
  });

  it('does not remember very long paths', async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(root, 'long'));
    writeFileSync(join(root, 'long', 'a.py'), APP);
    const cache = new ResolveCache(root, { index: ['index.py'] });
    const path = `/long/a.py/${'x'.repeat(2000)}`;
    expect((await cache.resolve(path, '')).kind).toBe('script');
    unlinkSync(join(root, 'long', 'a.py'));
    expect((await cache.resolve(path, '')).kind).toBe('not-found');
  });

  it('never remembers a redirect (it carries the query)', async () => {
    const cache = new ResolveCache(root, { index: ['index.py'] });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(root, 'dir'));
    expect(await cache.resolve('/dir', 'a=1')).toEqual({ kind: 'redirect', location: '/dir/?a=1' });
    expect(await cache.resolve('/dir', 'b=2')).toEqual({ kind: 'redirect', location: '/dir/?b=2' });
  });
});
