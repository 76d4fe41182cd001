// Real system users for the tenant tests (issue 13): made with useradd under
// a temporary folder of homes, removed with userdel after. Names are unique
// per run, so an existing user is never touched. Needs root: the callers skip
// with a clear message otherwise (`describe.skipIf(!isRoot)`).
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { removeDir, tempDir } from './helpers.js';

export const isRoot = process.getuid?.() === 0;

export interface TestUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  /** Its home, mode 0711 (others may pass, not list), owned by it. */
  readonly home: string;
}

export interface TestUsers {
  readonly base: string;
  readonly users: Record<string, TestUser>;
  /** Makes `dir` (and its parents below the home) owned by `user`. */
  own(user: TestUser, ...paths: string[]): void;
  remove(): void;
}

let counter = 0;

/** One user per role ("alice", "bob"...), each with its own primary group and a home under a fresh folder. */
export function makeTestUsers(roles: readonly string[]): TestUsers {
  const base = tempDir('pypages-tenants-');
  chmodSync(base, 0o755);
  const tag = `${process.pid.toString(36)}${(counter++).toString(36)}${Date.now().toString(36).slice(-3)}`;
  const users: Record<string, TestUser> = {};
  const added: string[] = [];
  const remove = () => {
    for (const name of added.splice(0)) {
      try {
        execFileSync('pkill', ['-KILL', '-u', name], { stdio: 'ignore' });
      } catch {} // no process left: the usual case
      execFileSync('userdel', [name], { stdio: 'ignore' });
    }
    removeDir(base);
  };
  try {
    for (const role of roles) {
      const name = `pp${role.slice(0, 3)}${tag}`.slice(0, 31);
      const home = path.join(base, name);
      mkdirSync(home);
      execFileSync('useradd', [
        '--home-dir',
        home,
        '--no-create-home',
        '--user-group',
        '--shell',
        '/usr/sbin/nologin',
        name,
      ]);
      added.push(name);
      const [uid, gid] = ['-u', '-g'].map((f) => Number(execFileSync('id', [f, name], { encoding: 'utf8' }).trim()));
      chownSync(home, uid, gid);
      chmodSync(home, 0o711);
      users[role] = { name, uid, gid, home };
    }
  } catch (err) {
    remove();
    throw err;
  }
  const own = (user: TestUser, ...paths: string[]) => {
    for (const p of paths) chownSync(p, user.uid, user.gid);
  };
  return { base, users, own, remove };
}
