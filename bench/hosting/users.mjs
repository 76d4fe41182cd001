// Real system users for the hosting benchmark, each with a home and a
// public_html of scripts it owns (as test/tenant-users.ts makes them for the
// tenant tests). Every user this makes carries the comment MARK and a home
// under a /tmp/pypages-hosting-* folder; remove() deletes exactly those it
// made (their processes by pid first: userdel refuses a user still running),
// and removeLeftovers() those a killed run left behind, never anyone else.

import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const MARK = 'pypages bench-hosting';
const BASE_PREFIX = 'pypages-hosting-';
let calls = 0;

/** A fresh world-readable folder for one run: homes, the server's root, logs. */
export function makeBase() {
  const base = mkdtempSync(join(tmpdir(), BASE_PREFIX));
  chmodSync(base, 0o755);
  for (const sub of ['home', 'www', 'logs']) {
    mkdirSync(join(base, sub));
    chmodSync(join(base, sub), 0o755);
  }
  return base;
}

/**
 * `count` users named PREFIX0, PREFIX1…, each with BASE/home/NAME (0711) and
 * NAME's public_html holding one copy of each of `scripts` ([{ name, source }])
 * named `name` (or `name` with a suffix when `copies` > 1). Returns
 * { users: [{ name, uid, gid, home, folder, scripts: [file names] }], remove() }.
 */
export function makeUsers(base, { count, scripts, copies = 1 }) {
  const tag = `${process.pid.toString(36)}${Date.now().toString(36).slice(-3)}${(calls++).toString(36)}`;
  const users = [];
  const remove = () => removeUsers(users.splice(0));
  try {
    for (let i = 0; i < count; i++) {
      const name = `pph${tag}u${i}`.slice(0, 31);
      const home = join(base, 'home', name);
      mkdirSync(home);
      execFileSync('useradd', [
        '--home-dir',
        home,
        '--no-create-home',
        '--user-group',
        '--shell',
        '/usr/sbin/nologin',
        '--comment',
        MARK,
        name,
      ]);
      const [uid, gid] = ['-u', '-g'].map((f) => Number(execFileSync('id', [f, name], { encoding: 'utf8' }).trim()));
      const user = { name, uid, gid, home, folder: join(home, 'public_html'), scripts: [] };
      users.push(user);
      fillFolder(user, scripts, copies);
    }
  } catch (err) {
    remove();
    throw err;
  }
  return { users, remove };
}

function fillFolder(user, scripts, copies) {
  mkdirSync(user.folder);
  for (let c = 0; c < copies; c++)
    for (const s of scripts) {
      const file = copies === 1 ? s.name : s.name.replace(/\.py$/, `_${c}.py`);
      copyFileSync(s.source, join(user.folder, file));
      chmodSync(join(user.folder, file), 0o644);
      chownSync(join(user.folder, file), user.uid, user.gid);
      user.scripts.push(file);
    }
  for (const dir of [user.folder, user.home]) chownSync(dir, user.uid, user.gid);
  chmodSync(user.folder, 0o755); // Apache embedded reads it as www-data
  chmodSync(user.home, 0o711);
}

function removeUsers(users) {
  for (const user of users) {
    killProcessesOf(user.uid);
    try {
      execFileSync('userdel', [user.name], { stdio: 'ignore' });
    } catch {
      killProcessesOf(user.uid);
      try {
        execFileSync('userdel', [user.name], { stdio: 'ignore' });
      } catch (err) {
        console.error(`hosting: could not remove user ${user.name}: ${err.message}`);
      }
    }
  }
}

/** SIGKILL to every process whose real uid is `uid` (a user this run made), one pid at a time. */
function killProcessesOf(uid) {
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'latin1');
      if (Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) === uid) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

/** Users an earlier, killed run left (comment MARK, a home under /tmp/pypages-hosting-*), and their run folders. */
export function removeLeftovers() {
  const leftovers = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .filter((f) => f.length >= 7 && f[4] === MARK && f[5].startsWith(join(tmpdir(), BASE_PREFIX)))
    .map((f) => ({ name: f[0], uid: Number(f[2]), base: dirname(dirname(f[5])) }));
  removeUsers(leftovers);
  for (const base of new Set(leftovers.map((u) => u.base))) rmSync(base, { recursive: true, force: true });
  return leftovers.map((u) => u.name);
}
