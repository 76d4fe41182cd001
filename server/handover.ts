// What the server child writes, made writable for server-user by the root
// supervisor before each start, and before passing on SIGUSR1 and SIGHUP
// (README "Security model"), as nginx's master hands its log files to its
// workers' user:
//
// - Log files the config names (access-log, error-log, with {site}
//   expanded): each is created if missing and, when it is not the
//   server-user's, given to it (its group and the rest of its mode kept). The
//   file is opened without following a link and changed through that handle,
//   and only a regular file with a single name is changed, so a link planted
//   in a log folder cannot make root give away another file. A path with
//   {user} (a user folder's) is opened by the child as it is: its folder
//   must let server-user write.
// - The tls: auto state folder (ACME keys): made if missing and given to
//   server-user; one still root's (used before the drop existed) is given
//   over with what it holds, once. Its parent folders must let server-user
//   pass, which privilegesFor checks.
import { closeSync, constants, fchmodSync, fchownSync, fstatSync, lstatSync, mkdirSync, openSync } from 'node:fs';
import { readdirSync, lchownSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../lib/config/config.js';
import type { RunAs } from '../lib/tenant/identity.js';

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

/** Makes `file` the server-user's to append to; returns why not (for the log), or null. */
export function handLogFile(file: string, user: RunAs): string | null {
  let fd: number;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o640);
  } catch (err) {
    return `log file ${file}: ${(err as Error).message}`;
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
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    if (!st.isDirectory()) return `state-dir ${dir} is not a folder`;
    if (st.uid === user.uid) return null;
    // Still root's: the server-user has never written in it (0700), so nothing in it is the server-user's to plant.
    if (st.uid === 0) giveTree(dir, user);
    return null;
  } catch (err) {
    return `state-dir ${dir}: ${(err as Error).message}`;
  }
}

/** lchown of a folder and all below it, never following a link; bounded in depth. */
function giveTree(dir: string, user: RunAs, depth = 0): void {
  lchownSync(dir, user.uid, user.gid);
  if (depth > 8) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) giveTree(full, user, depth + 1);
    else lchownSync(full, user.uid, user.gid);
  }
}
