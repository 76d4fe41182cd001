// lib/worker/page-file-open.ts: the file a page names in a FILE frame is sent
// only if it is a regular file that the page's user could read itself. Real
// files, folders, links, a FIFO and a device; the user is a uid Node judges
// for (no account is needed for that), so it runs as any user.
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, openSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openPageFile, Refused } from '../../../lib/worker/page-file-open.js';
import type { RunAs } from '../../../lib/tenant/identity.js';
import { removeDir, tempDir } from '../../helpers.js';

const me = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
const stranger: RunAs = { user: 'stranger', uid: 54321, gid: 54321, groups: [54321], home: '/nonexistent' };
const owner: RunAs = { user: 'owner', uid: me.uid === 0 ? 0 : me.uid, gid: me.gid, groups: [me.gid], home: '/' };
const groupMate: RunAs = { user: 'mate', uid: 54322, gid: 54399, groups: [54399, me.gid], home: '/' };

const dir = tempDir('pypages-page-file-');
afterAll(() => {
  chmodSync(path.join(dir, 'closed'), 0o755);
  removeDir(dir);
});
mkdirSync(path.join(dir, 'closed'));
for (const [name, mode] of [
  ['public.txt', 0o644],
  ['private.txt', 0o600],
  ['group.txt', 0o640],
  ['closed/public.txt', 0o644],
] as const) {
  writeFileSync(path.join(dir, name), name);
  chmodSync(path.join(dir, name), mode);
}
chmodSync(path.join(dir, 'closed'), 0o700);
symlinkSync(path.join(dir, 'private.txt'), path.join(dir, 'link-to-private.txt'));
execFileSync('mkfifo', [path.join(dir, 'fifo')]);

const file = (p: string) => ({ path: p.startsWith('/') ? p : path.join(dir, p), offset: 0, length: null });

async function opened(p: string, runAs: RunAs | null): Promise<string> {
  const got = await openPageFile(file(p), runAs);
  if (got instanceof Refused) return `refused: ${got.why}`;
  if (got instanceof Error) return `error: ${got.message}`;
  const text = (await got.readFile()).toString();
  await got.close();
  return `sent: ${text}`;
}

describe('openPageFile', () => {
  it('sends any regular file when no user is switched', async () => {
    expect(await opened('private.txt', null)).toBe('sent: private.txt');
  });
  it("sends what the page's user may read, by owner, group or others", async () => {
    expect(await opened('public.txt', stranger)).toBe('sent: public.txt');
    if (me.uid !== 0) expect(await opened('private.txt', owner)).toBe('sent: private.txt');
    expect(await opened('group.txt', groupMate)).toBe('sent: group.txt');
  });
  it("refuses a file the page's user may not read, naming the file, its mode and the user", async () => {
    expect(await opened('private.txt', stranger)).toMatch(
      /^refused: .*\/private\.txt \(mode 0600, .*\) may not be read by stranger \(uid 54321, gid 54321, groups 54321\), the user the page runs as$/,
    );
    expect(await opened('group.txt', stranger)).toMatch(/^refused: .*mode 0640/);
  });
  it('refuses a file below a folder the user may not pass', async () => {
    expect(await opened('closed/public.txt', stranger)).toMatch(/^refused: folder .*\/closed \(mode 0700/);
  });
  it('judges the true path, not the name: a link, or a /proc/PID/fd alias, to a private file is refused', async () => {
    expect(await opened('link-to-private.txt', stranger)).toMatch(/^refused: .*\/private\.txt \(mode 0600/);
    const fd = openSync(path.join(dir, 'private.txt'), 'r');
    try {
      expect(await opened(`/proc/${process.pid}/fd/${fd}`, stranger)).toMatch(/^refused: .*\/private\.txt \(mode 0600/);
      expect(await opened(`/proc/${process.pid}/fd/${fd}`, null)).toBe('sent: private.txt');
    } finally {
      closeSync(fd);
    }
  });
  it('refuses what is not a regular file, without opening it: a FIFO does not block, a device is not opened', async () => {
    for (const runAs of [null, stranger]) {
      expect(await opened('fifo', runAs)).toBe('refused: not a regular file');
      expect(await opened('/dev/null', runAs)).toBe('refused: not a regular file');
      expect(await opened(dir, runAs)).toBe('refused: not a regular file');
    }
  });
  it('tells the page only that it could not open it, and a missing file as the system says', async () => {
    const got = await openPageFile(file('private.txt'), stranger);
    expect(got).toBeInstanceOf(Refused);
    expect((got as Error).message).toBe('EACCES: not a regular file that stranger may read');
    expect(await opened('missing.txt', stranger)).toMatch(/^error: ENOENT/);
  });
});
