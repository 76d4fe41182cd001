// What the server child writes, made writable for server-user by the root
// supervisor before each start, and before passing on SIGUSR1 and SIGHUP
// (README "Security model"), as nginx's master hands its log files to its
// workers' user. The server child may be compromised and racing root, so
// root hands over only where nobody but root can change the way there:
//
// - Log files the config names (access-log, error-log, with {site}
//   expanded): each is created if missing and, when it is not the
//   server-user's, given to it (its group and the rest of its mode kept);
//   only a regular file with a single name is changed. Every folder on the
//   way, those a link on it leads through included, must be root's and
//   writable by no one else (a sticky folder above the file's own is fine:
//   others cannot rename root's entries there), and every link root's.
//   Otherwise someone could swap a folder for a link (O_NOFOLLOW guards the
//   last name only) and have root create or give away any file of that
//   name: root leaves the file alone and says so. One in a folder the
//   server-user may write is the server child's to open as itself, as a
//   path with {user} always is. Why a check and not a race-free open: Node
//   has no openat(), so root opens by path; with every folder on it
//   root-only no one else can change the path between the check and the
//   open, so the check is the fix. O_NONBLOCK: a FIFO without a reader
//   fails at once instead of blocking the supervisor.
// - The tls: auto state folder (ACME keys): made if missing and given to
//   server-user; one still root's (used before the drop existed) is given
//   over with what it holds, once: bottom up, each folder after what it
//   holds, so every folder root lists or changes in is still root's alone.
//   Links are given as links, never followed; a folder others may write, or
//   a file with another name, is left as it is; depth and count are
//   bounded. Its parent folders must be root-only as a log file's (else the
//   server-user could swap the folder itself) and let server-user pass,
//   which privilegesFor checks.
import type { Stats } from 'node:fs';
import { closeSync, constants, fchmodSync, fchownSync, fstatSync, lstatSync, mkdirSync, openSync } from 'node:fs';
import { lchownSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../lib/config/config.js';
import { modeText, permits, WRITE } from '../lib/tenant/access.js';
import type { RunAs } from '../lib/tenant/identity.js';

/** How deep and how many entries a state folder's handover goes (it holds an account key and a few certificates). */
const MAX_DEPTH = 8;
const MAX_ENTRIES = 10_000;

/** The log files of `config`'s sites that can be named before a request comes ({user}'s cannot). */
export function logFiles(config: Config): string[] {
  const sites = [
    { name: 'default', values: config as unknown as Readonly<Record<string, unknown>> },
    ...config.sites.map((s) => ({ name: s.name, values: { ...config, ...s.values } as Record<string, unknown> })),
  ];
  const files = sites.flatMap(({ name, values }) =>
    [values.accessLog, values.errorLog].map((f) => String(f).replace(/\{site\}/g, name)),
  );
  return [...new Set(files.filter((f) => f !== '-' && !f.includes('{user}')))];
}

const LEFT_TO_CHILD = (user: RunAs) =>
  `, which ${user.user} may change: root creates and gives nothing there, the server child opens it as ${user.user}`;
const LEFT_AS_IT_IS = ": left as it is (make the folders on its way root's and not writable by others)";

/** Makes `file` the server-user's to append to; returns why not (for the log), or null. */
export function handLogFile(file: string, user: RunAs): string | null {
  const target = path.resolve(file);
  let fd: number;
  try {
    const way = changeableOnTheWay(path.dirname(target), user, true);
    if (way) return `log file ${file}: ${way.why}${way.byServerUser ? LEFT_TO_CHILD(user) : LEFT_AS_IT_IS}`;
    fd = openSync(
      target,
      constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK,
      0o640,
    );
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return `log file ${file}: ${e.code === 'ENXIO' ? 'a FIFO nobody reads, or a socket: left as it is' : e.message}`;
  }
  try {
    const st = fstatSync(fd);
    if (st.uid === user.uid) return null;
    if (!st.isFile() || st.nlink !== 1) return `log file ${file} is not a regular file with one name: left as it is`;
    fchownSync(fd, user.uid, st.gid);
    if ((st.mode & 0o600) !== 0o600) fchmodSync(fd, (st.mode & 0o7777) | 0o600);
    return null;
  } catch (err) {
    return `log file ${file}: ${(err as Error).message}`;
  } finally {
    closeSync(fd);
  }
}

/** Makes the state folder the server-user's (what it holds too, if it was still root's); returns why not, or null. */
export function handStateFolder(dir: string, user: RunAs): string | null {
  const target = path.resolve(dir);
  try {
    const way = changeableOnTheWay(path.dirname(target), user, false);
    if (way)
      return `state-dir ${dir}: ${way.why}, which ${way.byServerUser ? user.user : 'another user than root'} may change: left as it is (make the folders above it root's and not writable by others)`;
    mkdirSync(target, { recursive: true, mode: 0o700 });
    const st = lstatSync(target);
    if (!st.isDirectory()) return `state-dir ${dir} is not a folder`;
    if (st.uid !== 0) return null; // the server-user's already (or someone else's: not root's to give)
    const left = giveTree(target, user, { entries: MAX_ENTRIES }, 0);
    return left && `state-dir ${dir}: ${left}`;
  } catch (err) {
    return `state-dir ${dir}: ${(err as Error).message}`;
  }
}

interface Way {
  /** The first folder (or link) on the way that another user than root may change, described. */
  readonly why: string;
  readonly byServerUser: boolean;
}

/**
 * The first place on the way down to the folder `dir` that someone other
 * than root could change, or null when there is none. Resolved here name by
 * name, as the kernel would, so that every folder passed (those a link's
 * target goes through too, which a realpath would hide) is judged: each must
 * be root's, writable by no one else (sticky: others may not rename root's
 * entries), and each link root's. `dir` itself, and the folder a missing name
 * would be made in, may not be sticky-writable either when `strict`. Only a
 * link the walk has approved is ever followed (by readlink).
 */
function changeableOnTheWay(dir: string, user: RunAs, strict: boolean): Way | null {
  const todo = dir.split('/').reverse();
  let real = '/';
  const top = judged(real, user, false);
  if (top) return top;
  for (let hops = 0; todo.length > 0; ) {
    const name = todo.pop() as string;
    if (name === '..') real = path.dirname(real);
    if (name === '' || name === '.' || name === '..') continue;
    const at = path.join(real, name);
    const st = lstatSync(at, { throwIfNoEntry: false });
    if (!st) return judged(real, user, true); // root makes what is missing there (or fails to open)
    if (st.isSymbolicLink()) {
      if (st.uid !== 0) return changedBy(at, st, user);
      if (++hops > 40) throw new Error(`${at}: too many links`);
      const to = readlinkSync(at);
      if (path.isAbsolute(to)) real = '/';
      todo.push(...to.split('/').reverse());
    } else if (!st.isDirectory()) throw new Error(`${at} is not a folder`);
    else if (!rootOnly(st, false)) return changedBy(at, st, user);
    else real = at;
  }
  return judged(real, user, strict);
}

/** Whether only root may add, remove or rename entries in the folder `st` (sticky: others theirs only, unless `strict`). */
function rootOnly(st: Stats, strict: boolean): boolean {
  const sticky = (st.mode & 0o1000) !== 0;
  return st.isDirectory() && st.uid === 0 && ((st.mode & 0o022) === 0 || (sticky && !strict));
}

function judged(real: string, user: RunAs, strict: boolean): Way | null {
  const st = lstatSync(real);
  return rootOnly(st, strict) ? null : changedBy(real, st, user);
}

function changedBy(at: string, st: Stats, user: RunAs): Way {
  const byServerUser = st.uid === user.uid || (st.isDirectory() && permits(user, st, WRITE));
  return { why: `${at} (${st.isSymbolicLink() ? 'a link, ' : ''}${modeText(st)})`, byServerUser };
}

/**
 * Gives what the root-only folder `dir` holds to `user`, then `dir` itself;
 * returns what it left, or null. Bottom up, so every folder root lists or
 * changes in is still root's alone: no one can swap an entry under it.
 */
function giveTree(dir: string, user: RunAs, budget: { entries: number }, depth: number): string | null {
  const st = lstatSync(dir);
  if (st.uid === user.uid) return null; // given before
  if (!rootOnly(st, true)) return `${dir} (${modeText(st)}) is not root's alone: left as it is`;
  if (depth > MAX_DEPTH) return `${dir} is more than ${MAX_DEPTH} folders down: left as it is`;
  let left: string | null = null;
  for (const name of readdirSync(dir)) {
    if (--budget.entries < 0) return `more than ${MAX_ENTRIES} entries: ${dir} and the rest left as they are`;
    left = giveEntry(path.join(dir, name), user, budget, depth) ?? left;
  }
  if (budget.entries < 0) return left; // a folder below ran out: this one stays root's too
  lchownSync(dir, user.uid, user.gid);
  return left;
}

/** One entry of a folder being given: a folder in turn, a link as a link, a regular file with one name; returns what it left. */
function giveEntry(entry: string, user: RunAs, budget: { entries: number }, depth: number): string | null {
  const st = lstatSync(entry);
  if (st.isDirectory()) return giveTree(entry, user, budget, depth + 1);
  if (st.uid === user.uid) return null;
  if (!st.isSymbolicLink() && !(st.isFile() && st.nlink === 1))
    return `${entry} is not a regular file with one name: left as it is`;
  lchownSync(entry, user.uid, user.gid);
  return null;
}
