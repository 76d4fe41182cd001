// Files are confined to their owner (issue 13), with real system users (made
// by the test under a temporary home, removed after; skipped when not root):
// a site root holding alice/ and bob/, each folder and its files owned by its
// user, so `user: owner` gives each script its owner's identity.
//  - symlinks: owner-match (auto, as root): a link in alice's folder to bob's
//    file or script is a 404 and an error-log line; a link to her own is served;
//  - symlinks: follow: the same link is followed;
//  - as root, a static file others may not read is a 403;
//  - FILE frames: alice's page names bob's 0600 file, /etc/shadow, or a link to
//    bob's file: Node does not send it (the page then sends its own file as
//    BODY); one alice may read, Node sends (a Range gets 206 from Node only).
//    The page opens only its own file and names the other path in the FILE
//    frame itself (it replaces the worker's sendable_file), so this holds
//    whether workers run as root or, once they are launched as their user, as alice.
import { chmodSync, lchownSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveTempRoot, type TestServer, waitFor } from '../helpers.js';
import { isRoot, makeTestUsers, type TestUser, type TestUsers } from '../tenant-users.js';

const PAGE = (name: string) => `def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"${name}"]
`;

// Names its file in the FILE frame from the X-Name header; what it really wraps is alice's own.txt.
const FILE_PAGE = `import os, sys

wsgi = sys.modules["pypages_worker.wsgi"]

def application(environ, start_response):
    own = open(os.path.join(environ["DOCUMENT_ROOT"], "alice", "own.txt"), "rb")
    named = environ.get("HTTP_X_NAME")
    if named:
        original = wsgi.sendable_file
        def once(result):
            wsgi.sendable_file = original
            return (named, 0, 1 << 20)
        wsgi.sendable_file = once
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return environ["wsgi.file_wrapper"](own)
`;

/** The tree of the site root: path → [content or '->link target', owner role, mode]. */
const TREE: Record<string, [string, 'alice' | 'bob' | 'root', number]> = {
  'alice/': ['', 'alice', 0o755],
  'alice/own.txt': ['alice-own', 'alice', 0o644],
  'alice/own-private.txt': ['alice-private', 'alice', 0o600],
  'alice/page.py': [PAGE('alice-page'), 'alice', 0o644],
  'alice/file_page.py': [FILE_PAGE, 'alice', 0o644],
  'alice/to-own.txt': ['->own.txt', 'alice', 0],
  'alice/to-own.py': ['->page.py', 'alice', 0],
  'alice/to-bob.txt': ['->../bob/secret.txt', 'alice', 0],
  'alice/to-bob-public.txt': ['->../bob/public.txt', 'alice', 0],
  'alice/to-bob.py': ['->../bob/page.py', 'alice', 0],
  'bob/': ['', 'bob', 0o755],
  'bob/secret.txt': ['bob-secret', 'bob', 0o600],
  'bob/public.txt': ['bob-public', 'bob', 0o644],
  'bob/page.py': [PAGE('bob-page'), 'bob', 0o644],
  'root-private.txt': ['root-private', 'root', 0o600],
};

function populate(root: string, users: TestUsers): void {
  const uidOf = (role: string): TestUser | { uid: 0; gid: 0 } =>
    role === 'root' ? { uid: 0, gid: 0 } : users.users[role];
  for (const [rel, [content, role, mode]] of Object.entries(TREE)) {
    const p = path.join(root, rel);
    if (rel.endsWith('/')) mkdirSync(p);
    else if (content.startsWith('->')) symlinkSync(content.slice(2), p);
    else writeFileSync(p, content);
    const { uid, gid } = uidOf(role);
    lchownSync(p, uid, gid);
    if (mode) chmodSync(p, mode);
  }
}

/** alice's public_html: her file, bob's file put there, root's file. */
function populateUserFolder(users: TestUsers): void {
  const { alice, bob } = users.users;
  const dir = path.join(alice.home, 'public_html');
  mkdirSync(dir, { mode: 0o755 });
  users.own(alice, dir);
  for (const [name, owner] of [
    ['mine.txt', alice],
    ['bobs.txt', bob],
    ['roots.txt', { uid: 0, gid: 0 }],
  ] as const) {
    writeFileSync(path.join(dir, name), name);
    chmodSync(path.join(dir, name), 0o644);
    lchownSync(path.join(dir, name), owner.uid, owner.gid);
  }
}

/** The request id an error page names. */
const requestIdOf = (body: string) => /Request id: (\S+)/.exec(body)?.[1] ?? '(none)';

describe.skipIf(!isRoot)('files confined to their owner (real system users; skipped: needs root)', () => {
  let users: TestUsers;
  let s: TestServer;
  let follow: TestServer;
  beforeAll(async () => {
    users = makeTestUsers(['alice', 'bob']);
    populateUserFolder(users);
    s = await serveTempRoot((root) => populate(root, users), { userdir: 'public_html', userdirMinUid: 1 });
    follow = await serveTempRoot((root) => populate(root, users), { symlinks: 'follow' });
  });
  afterAll(async () => {
    await s?.stop();
    await follow?.stop();
    users?.remove();
  });

  /** GET `p`: its status and body, and the error-log lines naming its request id (for an error page). */
  async function get(server: TestServer, p: string, headers: Record<string, string> = {}) {
    const res = await server.get(p, { headers });
    const body = await res.text();
    const id = requestIdOf(body);
    return { status: res.status, body, logged: server.log.errors.filter((l) => l.includes(`request ${id}:`)) };
  }

  it("a link in alice's folder to bob's 0600 file is a 404, logged with the request id, site, link and both owners", async () => {
    const { alice, bob } = users.users;
    const got = await get(s, '/alice/to-bob.txt');
    expect(got.status).toBe(404);
    expect(got.body).not.toContain('bob-secret');
    expect(got.logged).toEqual([
      expect.stringMatching(
        new RegExp(
          `^request \\S+: site default: 404: symlink ${s.root}/alice/to-bob\\.txt -> \\.\\./bob/secret\\.txt is owned by uid ${alice.uid} \\(${alice.name}\\), what it leads to \\(${s.root}/bob/secret\\.txt\\) by uid ${bob.uid} \\(${bob.name}\\)`,
        ),
      ),
    ]);
  });

  it("a link to bob's file others may read is a 404 too: the owners decide, not the mode", async () => {
    const got = await get(s, '/alice/to-bob-public.txt');
    expect([got.status, got.body.includes('bob-public'), got.logged.length]).toEqual([404, false, 1]);
  });

  it("a link in alice's folder to bob's script is a 404 as a script request, and bob's page does not run", async () => {
    const got = await get(s, '/alice/to-bob.py');
    expect(got.status).toBe(404);
    expect(got.body).not.toContain('bob-page');
    expect(got.logged).toEqual([
      expect.stringMatching(/site default: 404: symlink .*to-bob\.py -> \.\.\/bob\/page\.py/),
    ]);
  });

  it('links to her own file and her own script are served, and files reached without a link are as before', async () => {
    expect(await (await s.get('/alice/to-own.txt')).text()).toBe('alice-own');
    expect(await (await s.get('/alice/to-own.py')).text()).toBe('alice-page');
    expect(await (await s.get('/bob/public.txt')).text()).toBe('bob-public');
    expect(await (await s.get('/bob/page.py')).text()).toBe('bob-page');
  });

  it('with symlinks: follow, the cross-owner links are followed', async () => {
    const file = await follow.get('/alice/to-bob-public.txt');
    expect([file.status, await file.text()]).toEqual([200, 'bob-public']);
    const page = await follow.get('/alice/to-bob.py');
    expect([page.status, await page.text()]).toEqual([200, 'bob-page']);
    // Followed, but bob's 0600 file is still not what an unprivileged server could read.
    expect((await get(follow, '/alice/to-bob.txt')).status).toBe(403);
  });

  it('as root, a static file others may not read is a 403 with a log line, whoever owns it', async () => {
    for (const p of ['/root-private.txt', '/alice/own-private.txt', '/bob/secret.txt']) {
      const got = await get(s, p);
      expect(got.status).toBe(403);
      expect(got.body).not.toMatch(/private|secret/);
      expect(got.logged).toEqual([
        expect.stringMatching(/site default: 403: .* \(mode 0600, .*\) may not be read by others: started as root/),
      ]);
    }
  });

  it("a user folder serves only its user's files and root's: bob's file in alice's folder is a 404, logged", async () => {
    const { alice, bob } = users.users;
    expect(await (await s.get(`/~${alice.name}/mine.txt`)).text()).toBe('mine.txt');
    expect(await (await s.get(`/~${alice.name}/roots.txt`)).text()).toBe('roots.txt');
    const got = await get(s, `/~${alice.name}/bobs.txt`);
    expect(got.status).toBe(404);
    expect(got.logged).toEqual([
      expect.stringMatching(
        new RegExp(
          `site ~${alice.name}: 404: .*/public_html/bobs\\.txt is owned by uid ${bob.uid} \\(${bob.name}\\), not by the site's user uid ${alice.uid}`,
        ),
      ),
    ]);
  });

  describe('FILE frames of a page running as alice', () => {
    const RANGE = { Range: 'bytes=0-2' };
    /** The page's answer when its FILE frame names `named` (absent: its own file). */
    async function fileAnswer(named?: string) {
      const before = s.log.errors.length;
      const res = await s.get('/alice/file_page.py', { headers: { ...RANGE, ...(named ? { 'X-Name': named } : {}) } });
      return { status: res.status, body: await res.text(), lines: () => s.log.errors.slice(before) };
    }

    it('sends a file alice may read itself: her own, even her 0600 one (a Range is answered by Node: 206)', async () => {
      expect(await fileAnswer()).toMatchObject({ status: 206, body: 'ali' });
      const named = await fileAnswer(path.join(s.root, 'alice/own-private.txt'));
      expect(named).toMatchObject({ status: 206, body: 'ali' }); // "alice-private"
      expect(named.lines().filter((l) => l.includes('not sent'))).toEqual([]);
    });

    for (const [what, named] of [
      ["bob's 0600 file", 'bob/secret.txt'],
      ['/etc/shadow', '/etc/shadow'],
      ["a link in alice's folder to bob's file", 'alice/to-bob.txt'],
    ] as const) {
      it(`does not send ${what}: the page sends its own file as BODY instead, and the refusal is logged`, async () => {
        const full = named.startsWith('/') ? named : path.join(s.root, named);
        const got = await fileAnswer(full);
        // Not Node's 206 of the named file: the page's own bytes, whole, through the pipe.
        expect([got.status, got.body]).toEqual([200, 'alice-own']);
        const { alice } = users.users;
        const line = await waitFor(() => got.lines().find((l) => l.includes('not sent')), 'the refusal line');
        expect(line).toMatch(
          new RegExp(
            `^request \\S+ \\(${s.root}/alice/file_page\\.py\\): FILE "${full.replace(/[.]/g, '\\.')}" not sent: .* may not be (read|passed through) by ${alice.name} \\(uid ${alice.uid},`,
          ),
        );
      });
    }

    // /proc/PID/maps is mode 0444, yet the kernel lets only its owner (ptrace access) open it: mode bits
    // on /proc do not say who may read, and Node opening as root passes the kernel's check.
    it("does not send a /proc file alice could not open herself (root's memory map), and logs why", async () => {
      const got = await fileAnswer(`/proc/${process.pid}/maps`);
      expect([got.status, got.body]).toEqual([200, 'alice-own']);
      const line = await waitFor(() => got.lines().find((l) => l.includes('not sent')), 'the refusal line');
      expect(line).toMatch(/FILE "\/proc\/\d+\/maps" not sent: .*pseudo-filesystem/);
    });
  });
});
