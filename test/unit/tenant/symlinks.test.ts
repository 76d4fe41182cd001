// lib/tenant/symlinks.ts: which links a lookup follows, the owner-match
// decision on them, and (as root, with links and files given other owners
// by lchown) lib/http/resolve.ts and its memory applying it.
import { chmodSync, lchownSync, mkdirSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ResolveCache } from '../../../lib/http/resolve-cache.js';
import { DEFAULT_INDEX, resolve, type ResolveOptions } from '../../../lib/http/resolve.js';
import { type LinkHop, linksFollowed, ownerMatchOf, ownerMismatch } from '../../../lib/tenant/symlinks.js';
import type { Accounts } from '../../../lib/tenant/accounts.js';
import { removeDir, tempDir } from '../../helpers.js';
import { isRoot } from '../../tenant-users.js';

const APP = 'def application(environ, start_response):\n    pass\n';
const [ALICE, BOB] = [41001, 41002]; // uids no account needs to have: lchown takes any number
const names = (uid: number) => ({ [ALICE]: 'alice', [BOB]: 'bob', 0: 'root' })[uid] ?? '';

const base = tempDir('pypages-symlinks-');
afterAll(() => removeDir(base));

/** Builds `files` (path → content, or a symlink target after '->') under `dir`; `owners` gives each an owner. */
function build(dir: string, files: Record<string, string>, owners: Record<string, number> = {}): void {
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(dir, rel);
    mkdirSync(rel.endsWith('/') ? p : path.dirname(p), { recursive: true });
    if (!rel.endsWith('/')) {
      if (content.startsWith('->')) symlinkSync(content.slice(2), p);
      else writeFileSync(p, content);
    }
    if (owners[rel] !== undefined) lchownSync(p, owners[rel], owners[rel]);
  }
}

describe('linksFollowed', () => {
  const dir = path.join(base, 'walk');
  build(dir, {
    'target.txt': 'x',
    'sub/deep.txt': 'y',
    'plain.txt': 'z',
    'rel.txt': '->target.txt',
    'abs.txt': `->${path.join(dir, 'target.txt')}`,
    'chain.txt': '->rel.txt',
    subdir: '->sub',
    'through.txt': '->subdir/deep.txt',
    'up.txt': '->sub/../target.txt',
    'dangling.txt': '->nothing-here',
    loop1: '->loop2',
    loop2: '->loop1',
  });
  const hops = (name: string) => linksFollowed(dir, name)?.map((h) => [path.relative(dir, h.link), h.to]);

  it('is empty for a name that is no link', () => {
    expect(hops('plain.txt')).toEqual([]);
    expect(hops('sub')).toEqual([]);
  });
  it('lists each link followed, in order, with what it says', () => {
    expect(hops('rel.txt')).toEqual([['rel.txt', 'target.txt']]);
    expect(hops('abs.txt')).toEqual([['abs.txt', path.join(dir, 'target.txt')]]);
    expect(hops('chain.txt')).toEqual([
      ['chain.txt', 'rel.txt'],
      ['rel.txt', 'target.txt'],
    ]);
  });
  it('includes links met inside what a link says, and takes ".." after them as the kernel does', () => {
    expect(hops('through.txt')).toEqual([
      ['through.txt', 'subdir/deep.txt'],
      ['subdir', 'sub'],
    ]);
    expect(hops('up.txt')).toEqual([['up.txt', 'sub/../target.txt']]);
  });
  it('is null for a broken or looping path', () => {
    expect(linksFollowed(dir, 'dangling.txt')).toBeNull();
    expect(linksFollowed(dir, 'loop1')).toBeNull();
    expect(linksFollowed(dir, 'missing')).toBeNull();
  });
});

describe('ownerMismatch', () => {
  const hop = (linkUid: number, targetUid: number, link = '/r/a/x'): LinkHop => ({
    link,
    to: '../b/y',
    linkUid,
    targetUid,
  });
  const file = { real: '/r/b/y', uid: BOB, isFile: true };
  const anySite = { owner: null };

  it('lets through no links at all, and links whose owner owns what they lead to', () => {
    expect(ownerMismatch([], file, anySite, names)).toBeNull();
    expect(ownerMismatch([hop(BOB, BOB)], file, anySite, names)).toBeNull();
    expect(ownerMismatch([hop(0, 0)], { ...file, uid: 0 }, anySite, names)).toBeNull();
  });
  it("refuses a link to another owner's file, naming the link, both owners and the target", () => {
    expect(ownerMismatch([hop(ALICE, BOB)], file, anySite, names)).toBe(
      `symlink /r/a/x -> ../b/y is owned by uid ${ALICE} (alice), what it leads to (/r/b/y) by uid ${BOB} (bob) (symlinks: owner-match)`,
    );
  });
  it("is as strict as Apache and nginx: root's link to a tenant's file, and a tenant's link to root's, are refused", () => {
    expect(ownerMismatch([hop(0, BOB)], file, anySite, names)).toMatch(/owned by uid 0 \(root\)/);
    expect(ownerMismatch([hop(ALICE, 0)], { ...file, uid: 0 }, anySite, names)).toMatch(/by uid 0 \(root\)/);
  });
  it("refuses a chain if any one link in it is another's", () => {
    expect(
      ownerMismatch([hop(ALICE, ALICE), hop(BOB, ALICE, '/r/b/z')], { ...file, uid: ALICE }, anySite, names),
    ).toMatch(/^symlink \/r\/b\/z /);
  });
  it('in a user folder, serves only files of its user or root, links or not; folders are not asked', () => {
    const alicesSite = { owner: ALICE };
    expect(ownerMismatch([], { ...file, uid: ALICE }, alicesSite, names)).toBeNull();
    expect(ownerMismatch([], { ...file, uid: 0 }, alicesSite, names)).toBeNull();
    expect(ownerMismatch([], file, alicesSite, names)).toBe(
      `/r/b/y is owned by uid ${BOB} (bob), not by the site's user uid ${ALICE} (alice) (symlinks: owner-match)`,
    );
    expect(ownerMismatch([], { ...file, isFile: false }, alicesSite, names)).toBeNull();
    expect(ownerMismatch([hop(BOB, BOB)], file, alicesSite, names)).toMatch(/not by the site's user/);
  });
  it('names owners by uid alone when they have no account', () => {
    expect(ownerMismatch([hop(7, 8)], file, anySite, () => '')).toMatch(/owned by uid 7, .* by uid 8 /);
  });
});

describe('ownerMatchOf', () => {
  const accounts = { user: (n: string | number) => (n === 'alice' ? { uid: ALICE } : undefined) } as Accounts;
  it("is off under follow; under owner-match it names a user folder's user, or no one", () => {
    expect(ownerMatchOf({ symlinks: 'follow', user: 'alice' }, accounts)).toBeUndefined();
    expect(ownerMatchOf({ symlinks: 'owner-match', user: null }, accounts)).toEqual({ owner: null });
    expect(ownerMatchOf({ symlinks: 'owner-match', user: 'alice' }, accounts)).toEqual({ owner: ALICE });
    expect(ownerMatchOf({ symlinks: 'owner-match', user: 'gone' }, accounts)).toEqual({ owner: -1 });
  });
});

describe.skipIf(!isRoot)('resolve under owner-match (links given owners with lchown; skipped: needs root)', () => {
  const root = path.join(base, 'www');
  // alice's folder, bob's folder; links inside alice's to her own files and to bob's.
  const own: Record<string, number> = {
    'alice/': ALICE,
    'alice/own.txt': ALICE,
    'alice/page.py': ALICE,
    'alice/to-own.txt': ALICE,
    'alice/to-bob.txt': ALICE,
    'alice/to-bob.py': ALICE,
    'alice/to-bobs-folder': ALICE,
    'alice/via-bob-link.txt': ALICE,
    'alice/index-link/': ALICE,
    'alice/index-link/index.html': ALICE,
    'bob/': BOB,
    'bob/secret.txt': BOB,
    'bob/page.py': BOB,
    'bob/sub/': BOB,
    'bob/sub/x.txt': BOB,
    'bob/to-alice.txt': BOB,
    'bob/index.html': BOB,
  };
  build(
    root,
    {
      'alice/own.txt': 'alice',
      'alice/page.py': APP,
      'alice/to-own.txt': '->own.txt',
      'alice/to-bob.txt': '->../bob/secret.txt',
      'alice/to-bob.py': '->../bob/page.py',
      'alice/to-bobs-folder': '->../bob/sub',
      'alice/via-bob-link.txt': '->../bob/to-alice.txt',
      'alice/index-link/index.html': '->../../bob/index.html',
      'bob/secret.txt': 'bob',
      'bob/page.py': APP,
      'bob/sub/x.txt': 'x',
      'bob/to-alice.txt': '->../alice/own.txt',
      'bob/index.html': 'bob',
    },
    own,
  );
  chmodSync(path.join(root, 'bob', 'secret.txt'), 0o600);
  const opts: ResolveOptions = { index: DEFAULT_INDEX, ownerMatch: { owner: null } };
  const at = (p: string, o = opts) => resolve(root, p, '', o);

  it("serves and runs through a link to its owner's own file, and files reached without links", () => {
    expect(at('/alice/to-own.txt')).toMatchObject({ kind: 'static', file: path.join(root, 'alice/own.txt') });
    expect(at('/bob/secret.txt')).toMatchObject({ kind: 'static' });
    expect(at('/bob/page.py')).toMatchObject({ kind: 'script' });
  });
  it("refuses a link to another owner's file, script or folder: a not-found marked confined", () => {
    for (const p of ['/alice/to-bob.txt', '/alice/to-bob.py', '/alice/to-bobs-folder/x.txt', '/alice/index-link/'])
      expect(at(p)).toMatchObject({
        kind: 'not-found',
        confined: true,
        reason: expect.stringMatching(/^symlink .* is owned by uid 41001/),
      });
  });
  it("refuses a chain through another owner's link, even to its own file", () => {
    expect(at('/alice/via-bob-link.txt')).toMatchObject({ kind: 'not-found', confined: true });
  });
  it('follows every link inside the root without owner-match', () => {
    const follow = { index: DEFAULT_INDEX };
    expect(at('/alice/to-bob.txt', follow)).toMatchObject({ kind: 'static', file: path.join(root, 'bob/secret.txt') });
    expect(at('/alice/to-bob.py', follow)).toMatchObject({ kind: 'script', file: path.join(root, 'bob/page.py') });
    expect(at('/alice/index-link/', follow)).toMatchObject({ kind: 'static' });
  });
  it("in a user folder's site, refuses files of another owner even without a link", () => {
    const alicesSite = { index: DEFAULT_INDEX, ownerMatch: { owner: ALICE } };
    expect(at('/alice/own.txt', alicesSite)).toMatchObject({ kind: 'static' });
    expect(at('/bob/secret.txt', alicesSite)).toMatchObject({ kind: 'not-found', confined: true });
    expect(at('/bob/page.py', alicesSite)).toMatchObject({ kind: 'not-found', confined: true });
  });

  it('its memory uses a remembered page only while its real path is still itself', () => {
    build(
      root,
      { 'alice/swap.py': APP, 'alice/swap-link.py': '->swap.py' },
      { 'alice/swap.py': ALICE, 'alice/swap-link.py': ALICE },
    );
    const cache = new ResolveCache(root, opts);
    expect(cache.resolve('/alice/swap-link.py', '')).toMatchObject({
      kind: 'script',
      file: path.join(root, 'alice/swap.py'),
    });
    // alice puts a link to bob's page where her approved page was: within the second, the memory must not run it.
    unlinkSync(path.join(root, 'alice/swap.py'));
    symlinkSync('../bob/page.py', path.join(root, 'alice/swap.py.new'));
    lchownSync(path.join(root, 'alice/swap.py.new'), ALICE, ALICE);
    renameSync(path.join(root, 'alice/swap.py.new'), path.join(root, 'alice/swap.py'));
    expect(cache.resolve('/alice/swap-link.py', '')).toMatchObject({ kind: 'not-found', confined: true });
  });
});
