import {
  mkdirSync,
  mkdtempSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ResolveCache } from '../../../lib/http/resolve-cache.js';

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

  it('remembers a static file, but sees its deletion at once', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const cache = new ResolveCache(root, { index: ['index.py'] });
    writeFileSync(join(root, 'a.txt'), 'a');
    const first = cache.resolve('/a.txt', '');
    expect(first).toMatchObject({ kind: 'static', file: join(root, 'a.txt') });
    expect(cache.resolve('/a.txt', '')).toBe(first); // from memory
    unlinkSync(join(root, 'a.txt'));
    expect(cache.resolve('/a.txt', '').kind).toBe('not-found');
  });

  it('does not follow a folder on the way to a remembered file that became a symlink out of the root', () => {
    const outside = realpathSync(mkdtempSync(join(tmpdir(), 'pypages-outside-')));
    try {
      mkdirSync(join(root, 'd'));
      writeFileSync(join(root, 'd', 'f.txt'), 'inside');
      writeFileSync(join(outside, 'f.txt'), 'outside');
      const cache = new ResolveCache(root, { index: ['index.py'] });
      expect(cache.resolve('/d/f.txt', '').kind).toBe('static');
      renameSync(join(root, 'd'), join(root, 'old'));
      symlinkSync(outside, join(root, 'd'));
      expect(cache.resolve('/d/f.txt', '').kind).toBe('not-found');
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('looks again when the remembered file was replaced, or a link put in its place, and never throws', () => {
    mkdirSync(join(root, 'd'));
    writeFileSync(join(root, 'd', 'f.txt'), 'first');
    writeFileSync(join(root, 'other.txt'), 'other');
    const cache = new ResolveCache(root, { index: ['index.py'] });
    const first = cache.resolve('/d/f.txt', '');
    expect(cache.resolve('/d/f.txt', '')).toBe(first); // the same file: from memory
    writeFileSync(join(root, 'd', 'f.new'), 'second');
    renameSync(join(root, 'd', 'f.new'), join(root, 'd', 'f.txt')); // another inode at the path
    expect(cache.resolve('/d/f.txt', '')).not.toBe(first);
    unlinkSync(join(root, 'd', 'f.txt'));
    symlinkSync(join(root, 'other.txt'), join(root, 'd', 'f.txt')); // a link where the file was
    expect(cache.resolve('/d/f.txt', '')).toMatchObject({ kind: 'static', file: join(root, 'other.txt') });
    mkdirSync(join(root, 'e'));
    writeFileSync(join(root, 'e', 'g.txt'), 'g');
    expect(cache.resolve('/e/g.txt', '').kind).toBe('static');
    rmSync(join(root, 'e'), { recursive: true });
    writeFileSync(join(root, 'e'), 'a file where the folder was'); // lstat of e/g.txt: ENOTDIR
    expect(cache.resolve('/e/g.txt', '').kind).toBe('not-found');
  });

  it('keeps serving the old target of a swapped link on the URL path for up to a second', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    writeFileSync(join(root, 'one.txt'), '1');
    writeFileSync(join(root, 'two.txt'), '2');
    symlinkSync(join(root, 'one.txt'), join(root, 'link.txt'));
    const cache = new ResolveCache(root, { index: ['index.py'] });
    expect(cache.resolve('/link.txt', '')).toMatchObject({ file: join(root, 'one.txt') });
    unlinkSync(join(root, 'link.txt'));
    symlinkSync(join(root, 'two.txt'), join(root, 'link.txt'));
    expect(cache.resolve('/link.txt', '')).toMatchObject({ file: join(root, 'one.txt') });
    vi.advanceTimersByTime(1001);
    expect(cache.resolve('/link.txt', '')).toMatchObject({ file: join(root, 'two.txt') });
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
