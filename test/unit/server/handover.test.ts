// The root supervisor hands the server child's log files and TLS state folder
// to the server-user (server/handover.ts). The server child may be
// compromised: each case plants what it could (a link in a log path's
// folder part, a FIFO, files under a folder it owns) and checks root neither
// hangs nor gives away or creates anything it should not. As root, with a
// real user standing for the server-user; skipped, saying why, otherwise.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, linkSync, lstatSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { existsSync, lchownSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handLogFile, handStateFolder } from '../../../server/handover.js';
import type { RunAs } from '../../../lib/tenant/identity.js';
import { isRoot, makeTestUsers, type TestUsers } from '../../tenant-users.js';

describe.skipIf(!isRoot)(
  'root hands log files and the state folder to the server-user (needs root: skipped otherwise)',
  () => {
    let users: TestUsers;
    let srv: RunAs;
    let n = 0;
    /** A fresh folder under the (root 0755) base, `mode`, root's or `owner`'s. */
    const folder = (mode: number, owner?: RunAs, parent?: string) => {
      const dir = path.join(parent ?? users.base, `d${n++}`);
      mkdirSync(dir);
      chmodSync(dir, mode);
      if (owner) lchownSync(dir, owner.uid, owner.gid);
      return dir;
    };
    /** A root file holding `text`, mode `mode`. */
    const rootFile = (file: string, mode = 0o600) => {
      writeFileSync(file, "root's own\n");
      chmodSync(file, mode);
      return file;
    };
    const owner = (p: string) => lstatSync(p).uid;

    beforeAll(() => {
      users = makeTestUsers(['srv']);
      const u = users.users.srv;
      srv = { user: u.name, uid: u.uid, gid: u.gid, groups: [u.gid], home: u.home };
    });
    afterAll(() => users?.remove());

    it('(a) a link of the server-user in the folder part: refused, the file it leads to left as it was', () => {
      const logs = folder(0o755, srv);
      const victim = folder(0o755);
      rootFile(path.join(victim, 'access.log'));
      symlinkSync(victim, path.join(logs, 'default'));
      lchownSync(path.join(logs, 'default'), srv.uid, srv.gid);
      const why = handLogFile(path.join(logs, 'default', 'access.log'), srv);
      expect(why).toContain(`which ${srv.user} may change`);
      const st = statSync(path.join(victim, 'access.log'));
      expect([st.uid, st.mode & 0o7777]).toEqual([0, 0o600]);
      const empty = folder(0o755);
      symlinkSync(empty, path.join(logs, 'other'));
      expect(handLogFile(path.join(logs, 'other', 'access.log'), srv)).not.toBeNull();
      expect(existsSync(path.join(empty, 'access.log'))).toBe(false);
    });

    it("(a) a root's link whose target passes through a link of the server-user: refused (a realpath would hide it)", () => {
      const logs = folder(0o755);
      const own = folder(0o755, srv);
      const victim = folder(0o755);
      rootFile(path.join(victim, 'access.log'));
      symlinkSync(victim, path.join(own, 'swap'));
      lchownSync(path.join(own, 'swap'), srv.uid, srv.gid);
      symlinkSync(path.join(own, 'swap'), path.join(logs, 'default')); // root's own link, in a root-only folder
      expect(handLogFile(path.join(logs, 'default', 'access.log'), srv)).toContain(`${own} (mode 0755`);
      expect(owner(path.join(victim, 'access.log'))).toBe(0);
    });

    it('(b) a FIFO under the log name: a prompt refusal, no hang', () => {
      const logs = folder(0o755);
      const fifo = path.join(logs, 'access.log');
      execFileSync('mkfifo', [fifo]);
      // Were root's open to block, this reader (after 3 s, for 5 s at most) ends it: the test then fails on time.
      const reader = spawn('sh', ['-c', 'sleep 3 && exec timeout 5 cat -- "$0" >/dev/null', fifo], { stdio: 'ignore' });
      try {
        const started = Date.now();
        const why = handLogFile(fifo, srv);
        expect(Date.now() - started).toBeLessThan(1500);
        expect(why).toContain('FIFO');
        expect(owner(fifo)).toBe(0);
      } finally {
        reader.kill('SIGKILL');
      }
    }, 15_000);

    it("(c) a root-only log folder (under sticky /tmp): the file is made, or taken over, as the server-user's", () => {
      const logs = folder(0o755);
      expect(handLogFile(path.join(logs, 'access.log'), srv)).toBeNull();
      const made = statSync(path.join(logs, 'access.log'));
      expect([made.uid, made.gid, made.mode & 0o7777]).toEqual([srv.uid, 0, 0o640]);
      const old = rootFile(path.join(logs, 'error.log'), 0o400);
      expect(handLogFile(old, srv)).toBeNull();
      expect([owner(old), statSync(old).mode & 0o7777]).toEqual([srv.uid, 0o600]);
    });

    it('(d) a folder the server-user may write: root makes and gives nothing there, and says so', () => {
      for (const logs of [folder(0o755, srv), folder(0o777), folder(0o1777), folder(0o775, { ...srv, uid: 0 })]) {
        const old = rootFile(path.join(logs, 'error.log'), 0o640);
        for (const file of [path.join(logs, 'access.log'), old]) {
          const why = handLogFile(file, srv);
          expect(why).toContain(`the server child opens it as ${srv.user}`);
        }
        expect(existsSync(path.join(logs, 'access.log'))).toBe(false);
        expect(owner(old)).toBe(0);
      }
    });

    it("(e) a state folder still root's: what it holds given too, bottom up; links given as links, never followed", () => {
      const state = path.join(folder(0o755), 'state');
      const victim = rootFile(path.join(folder(0o755), 'victim'), 0o644);
      const victimDir = folder(0o755);
      const deep = path.join(state, 'certs', 'example.com');
      mkdirSync(deep, { recursive: true, mode: 0o700 });
      rootFile(path.join(state, 'account.key'));
      rootFile(path.join(deep, 'cert.pem'));
      symlinkSync(victim, path.join(state, 'certs', 'link'));
      symlinkSync(victimDir, path.join(state, 'dirlink'));
      linkSync(victim, path.join(deep, 'hard')); // a second name of a root file: never given
      const why = handStateFolder(state, srv);
      const given = [
        '',
        'account.key',
        'certs',
        'certs/example.com',
        'certs/example.com/cert.pem',
        'certs/link',
        'dirlink',
      ];
      for (const p of given) expect([p, owner(path.join(state, p))]).toEqual([p, srv.uid]);
      expect([owner(victim), owner(victimDir), statSync(victim).mode & 0o7777]).toEqual([0, 0, 0o644]);
      expect(why).toContain(`${path.join(deep, 'hard')} is not a regular file with one name`);
      expect(handStateFolder(state, srv)).toBeNull(); // the server-user's now: nothing more to do
    });

    it('(e) a folder inside the state folder others may write is left as it is, and said', () => {
      const state = folder(0o700, undefined, folder(0o755));
      const open = folder(0o777, undefined, state);
      rootFile(path.join(open, 'planted'));
      expect(handStateFolder(state, srv)).toContain(`${open} (mode 0777`);
      expect([owner(open), owner(path.join(open, 'planted')), owner(state)]).toEqual([0, 0, srv.uid]);
    });

    it('(f) a state folder whose parent the server-user may write: refused, nothing given', () => {
      const parent = folder(0o755, srv);
      const state = folder(0o700, undefined, parent);
      rootFile(path.join(state, 'account.key'));
      expect(handStateFolder(state, srv)).toContain(`${parent} (mode 0755, owner uid ${srv.uid}`);
      expect([owner(state), owner(path.join(state, 'account.key'))]).toEqual([0, 0]);
      expect(handStateFolder(path.join(parent, 'missing', 'state'), srv)).toContain(`which ${srv.user} may change`);
      expect(existsSync(path.join(parent, 'missing'))).toBe(false);
    });
  },
);
