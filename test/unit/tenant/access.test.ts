// lib/tenant/access.ts: the classic owner/group/others rule, against an
// independent formulation for every mode, class and wish, by hand for the
// cases people get wrong, and (as root) against the kernel itself: real users
// open every mode's file and pass through every mode's folder.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  foldersDown,
  modeText,
  OTHERS,
  permits,
  READ,
  type Reader,
  SEARCH,
  unreadableBy,
  WRITE,
} from '../../../lib/tenant/access.js';
import { removeDir, tempDir } from '../../helpers.js';
import { isRoot, makeTestUsers, type TestUsers } from '../../tenant-users.js';

const OWNER = 1001;
const GROUP = 2001;
const file = (mode: number, uid = OWNER, gid = GROUP) => ({ uid, gid, mode: 0o100000 | mode });
const dir = (mode: number, uid = OWNER, gid = GROUP) => ({ uid, gid, mode: 0o040000 | mode });

/** The rule written another way: the ls -l string, cut into its three classes. */
function oracle(who: Reader, inode: { uid: number; gid: number; mode: number }, want: number): boolean {
  const text = [...'rwxrwxrwx'].map((c, i) => (inode.mode & (0o400 >> i) ? c : '-')).join('');
  const inGroup = [who.gid, ...who.groups].includes(inode.gid);
  const cls = who.uid === inode.uid ? text.slice(0, 3) : inGroup ? text.slice(3, 6) : text.slice(6, 9);
  return (
    (!(want & READ) || cls[0] === 'r') && (!(want & WRITE) || cls[1] === 'w') && (!(want & SEARCH) || cls[2] === 'x')
  );
}

const READERS: Record<string, Reader> = {
  owner: { uid: OWNER, gid: 9, groups: [9] },
  'owner, also in the group': { uid: OWNER, gid: GROUP, groups: [GROUP] },
  'primary group': { uid: 7, gid: GROUP, groups: [7] },
  'supplementary group': { uid: 7, gid: 8, groups: [8, 55, GROUP] },
  other: { uid: 7, gid: 8, groups: [8, 55] },
  nobody: OTHERS,
};
const WANTS = [READ, WRITE, SEARCH, READ | SEARCH, READ | WRITE, READ | WRITE | SEARCH];

describe('permits: every mode, class and wish', () => {
  for (const [name, who] of Object.entries(READERS))
    it(`agrees with the ls -l reading for the ${name}`, () => {
      const wrong: string[] = [];
      for (let mode = 0; mode <= 0o7777; mode++)
        for (const want of WANTS)
          for (const inode of [file(mode), dir(mode)])
            if (permits(who, inode, want) !== oracle(who, inode, want))
              wrong.push(`${modeText(inode)} want ${want.toString(8)}`);
      expect(wrong).toEqual([]);
    });
});

describe('permits: the cases people get wrong', () => {
  const [owner, group, other] = [READERS.owner, READERS['primary group'], READERS.other];
  it('the first class that applies decides, even when a later one would allow more', () => {
    expect(permits(owner, file(0o066), READ)).toBe(false); // the owner of ---rw-rw-
    expect(permits(group, file(0o604), READ)).toBe(false); // the group of rw----r--
    expect(permits(other, file(0o604), READ)).toBe(true);
  });
  it('a supplementary group counts as the primary one', () => {
    expect(permits(READERS['supplementary group'], file(0o640), READ)).toBe(true);
    expect(permits(READERS.other, file(0o640), READ)).toBe(false);
  });
  it('root-owned files are judged like any other', () => {
    expect(permits(other, file(0o600, 0, 0), READ)).toBe(false);
    expect(permits(other, file(0o644, 0, 0), READ)).toBe(true);
    expect(permits(other, dir(0o700, 0, 0), SEARCH)).toBe(false);
  });
  it('a folder needs x to be passed through, r is not enough; x alone is', () => {
    expect(permits(other, dir(0o744), SEARCH)).toBe(false);
    expect(permits(other, dir(0o711), SEARCH)).toBe(true);
  });
  it("nobody (an unprivileged web server) has only the others' bits", () => {
    expect(permits(OTHERS, file(0o640, 0, 0), READ)).toBe(false);
    expect(permits(OTHERS, file(0o004, 0, 0), READ)).toBe(true);
  });
  it('root reads and passes through anything, and executes only what some x bit allows', () => {
    const root = { uid: 0, gid: 0, groups: [0] };
    expect(permits(root, file(0o000), READ)).toBe(true);
    expect(permits(root, dir(0o000), SEARCH)).toBe(true);
    expect(permits(root, file(0o600), SEARCH)).toBe(false);
    expect(permits(root, file(0o001), SEARCH)).toBe(true);
  });
});

describe('foldersDown and unreadableBy', () => {
  it('lists the folders from the top down, and none outside it', () => {
    expect(foldersDown('/', '/a/b')).toEqual(['/', '/a', '/a/b']);
    expect(foldersDown('/srv/www', '/srv/www')).toEqual(['/srv/www']);
    expect(foldersDown('/srv/www', '/srv/www/x/y')).toEqual(['/srv/www', '/srv/www/x', '/srv/www/x/y']);
    expect(foldersDown('/srv/www', '/srv/other')).toEqual([]);
    expect(foldersDown('/srv/www', '/srv/www2')).toEqual([]);
    expect(foldersDown('/srv/www/', '/srv/www/x')).toEqual(['/srv/www', '/srv/www/x']);
    expect(foldersDown('/', '/')).toEqual(['/']);
    expect(foldersDown('/srv/www', '/srv')).toEqual([]);
  });

  const tree: Record<string, ReturnType<typeof dir>> = {
    '/': dir(0o755, 0, 0),
    '/home': dir(0o755, 0, 0),
    '/home/bob': dir(0o700, 2002, 2002),
    '/home/alice': dir(0o711, OWNER, GROUP),
    '/home/alice/www': dir(0o750, OWNER, GROUP),
  };
  const stat = (p: string) => tree[p] ?? null;
  const other = READERS.other;
  it('refuses the first folder that may not be passed, naming it', () => {
    const why = unreadableBy(other, '/home/bob/secret', file(0o644), '/', stat);
    expect(why).toBe('folder /home/bob (mode 0700, owner uid 2002, group gid 2002) may not be passed through');
  });
  it('refuses a file whose bits deny, naming it', () => {
    expect(unreadableBy(other, '/home/alice/x', file(0o640), '/', stat)).toMatch(
      /^\/home\/alice\/x \(mode 0640, .*may not be read$/,
    );
    expect(unreadableBy(READERS['primary group'], '/home/alice/www/x', file(0o640), '/', stat)).toBeNull();
    expect(unreadableBy(other, '/home/alice/www/x', file(0o644), '/', stat)).toMatch(/folder \/home\/alice\/www/);
  });
  it('refuses what is gone, not a folder, or outside the top', () => {
    expect(unreadableBy(other, '/home/carol/x', file(0o644), '/', stat)).toMatch(/folder \/home\/carol is gone/);
    expect(unreadableBy(other, '/home/x', file(0o644), '/home/alice', stat)).toMatch(/not a path below/);
    expect(unreadableBy(other, 'relative/x', file(0o644), '/', stat)).toMatch(/not a path below/);
    const asFile = (p: string) => (p === '/home' ? file(0o755, 0, 0) : stat(p));
    expect(unreadableBy(other, '/home/x', file(0o644), '/', asFile)).toMatch(/folder \/home is gone or not a folder/);
  });
  it('starts at the top it is given: folders above it are not looked at', () => {
    expect(unreadableBy(OTHERS, '/home/bob/x', file(0o644), '/', stat)).not.toBeNull();
    const inside: Record<string, ReturnType<typeof dir>> = { ...tree, '/home/bob/www': dir(0o755, 2002, 2002) };
    expect(unreadableBy(OTHERS, '/home/bob/www/x', file(0o644), '/home/bob/www', (p) => inside[p] ?? null)).toBeNull();
  });
});

// The kernel as the oracle: each user opens a file of every mode and passes through a folder of every mode.
describe.skipIf(!isRoot)('permits agrees with the kernel (real users; skipped: needs root)', () => {
  let users: TestUsers;
  let base: string;
  beforeAll(() => {
    users = makeTestUsers(['alice', 'bob']);
    base = tempDir('pypages-access-');
  });
  afterAll(() => {
    users?.remove();
    removeDir(base);
  });

  /** Which of `paths` `who` can open (files) or stat through (folders: their child "f"), asked of the kernel as `who`. */
  function kernelSays(who: Reader, paths: string[]): boolean[] {
    const script =
      'import json,os,sys\nout=[]\nfor p in json.load(sys.stdin):\n' +
      '  try:\n    (os.stat(p+"/f") if os.path.basename(p).startswith("d") else open(p,"rb").close()); out.append(True)\n' +
      '  except PermissionError: out.append(False)\nprint(json.dumps(out))';
    const args = [`--reuid=${who.uid}`, `--regid=${who.gid}`, `--groups=${who.groups.join(',')}`, '/usr/bin/python3'];
    return JSON.parse(
      execFileSync('setpriv', [...args, '-c', script], { input: JSON.stringify(paths), encoding: 'utf8' }),
    );
  }

  function modes(name: string, uid: number, gid: number): { paths: string[]; inodes: ReturnType<typeof file>[] } {
    const top = path.join(base, name);
    mkdirSync(top, { mode: 0o755 });
    const paths: string[] = [];
    const inodes: ReturnType<typeof file>[] = [];
    for (let mode = 0; mode <= 0o777; mode++) {
      const [f, d] = [path.join(top, `f${mode}`), path.join(top, `d${mode}`)];
      writeFileSync(f, 'x');
      mkdirSync(d);
      writeFileSync(path.join(d, 'f'), 'x');
      for (const p of [f, d]) chownSync(p, uid, gid);
      chmodSync(f, mode);
      chmodSync(d, mode);
      paths.push(f, d);
      inodes.push(file(mode, uid, gid), dir(mode, uid, gid));
    }
    return { paths, inodes };
  }

  it('for the owner, its group, a supplementary group, others, and root-owned files', () => {
    const { alice, bob } = users.users;
    const cases: [string, Reader, number, number][] = [
      ['owner', { uid: alice.uid, gid: alice.gid, groups: [alice.gid] }, alice.uid, alice.gid],
      ['group', { uid: bob.uid, gid: bob.gid, groups: [bob.gid] }, alice.uid, bob.gid],
      ['supplementary', { uid: bob.uid, gid: bob.gid, groups: [bob.gid, alice.gid] }, alice.uid, alice.gid],
      ['other', { uid: bob.uid, gid: bob.gid, groups: [bob.gid] }, alice.uid, alice.gid],
      ['root-owned', { uid: bob.uid, gid: bob.gid, groups: [bob.gid] }, 0, 0],
    ];
    for (const [name, who, uid, gid] of cases) {
      const { paths, inodes } = modes(name, uid, gid);
      const ours = inodes.map((inode) => permits(who, inode, (inode.mode & 0o040000) !== 0 ? SEARCH : READ));
      const kernel = kernelSays(who, paths);
      const differ = paths.filter((_, i) => ours[i] !== kernel[i]);
      expect({ name, differ }).toEqual({ name, differ: [] });
    }
  });

  it('unreadableBy a real user matches what it can open through real folders', () => {
    const { alice, bob } = users.users;
    const top = path.join(base, 'walk');
    const deep = path.join(top, 'a', 'b');
    mkdirSync(deep, { recursive: true, mode: 0o755 });
    const secret = path.join(deep, 'secret');
    writeFileSync(secret, 'x');
    chownSync(secret, alice.uid, alice.gid);
    chmodSync(secret, 0o644);
    symlinkSync(secret, path.join(top, 'link'));
    const bobReader = { uid: bob.uid, gid: bob.gid, groups: [bob.gid] };
    const verdict = () => unreadableBy(bobReader, secret, statSync(secret)) === null;
    expect([verdict(), kernelSays(bobReader, [secret])[0]]).toEqual([true, true]);
    chmodSync(path.join(top, 'a'), 0o750);
    expect([verdict(), kernelSays(bobReader, [secret])[0]]).toEqual([false, false]);
  });
});
