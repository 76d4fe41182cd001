// Who may read what, by the classic Unix rule, decided by Node for someone
// else. Node runs as root, so the kernel lets it open anything; where Node
// opens a file on another's behalf, it must first ask whether that other
// could have opened it: a page's FILE frame (lib/worker/file-wrapper.ts, for
// the user the page runs as) and a static file (lib/http/static/readable.ts,
// for "others": the unprivileged user a web server would run as).
//
// The rule is the kernel's for a process without privileges: the owner's
// bits if it owns the inode, else the group's bits if the inode's group is
// its group or one of its supplementary groups, else the others' bits; the
// first class that applies decides, even when a later one would allow more
// (a 0604 file is not readable by its group). Root-owned inodes are judged
// like any other. POSIX ACLs are not read (Node has no xattr call): a file
// whose ACL grants more is refused (the page then sends it itself), and one
// whose ACL takes away what its mode bits give is allowed.
import type { Stats } from 'node:fs';
import { statSync } from 'node:fs';
import path from 'node:path';

/** Someone who reads: a uid, a primary gid and supplementary gids (lib/tenant/identity.ts's RunAs is one). */
export interface Reader {
  readonly uid: number;
  readonly gid: number;
  readonly groups: readonly number[];
}

/** What the rule reads of an inode (fs.Stats is one). */
export interface Inode {
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
}

export const READ = 0o4;
export const WRITE = 0o2;
/** Execute on a file; on a folder, passing through it (search). */
export const SEARCH = 0o1;

/** Someone who owns nothing and is in no group: only the others' bits apply (an unprivileged web server). */
export const OTHERS: Reader = Object.freeze({ uid: -1, gid: -1, groups: Object.freeze([]) });

/** Whether `who` may do all of `want` (READ | WRITE | SEARCH) to `inode` by its mode bits. */
export function permits(who: Reader, inode: Inode, want: number): boolean {
  // Root reads and searches anything (CAP_DAC_OVERRIDE); execute it needs from some x bit.
  if (who.uid === 0) return (want & SEARCH) === 0 || (inode.mode & 0o170000) === 0o040000 || (inode.mode & 0o111) !== 0;
  return (classBits(who, inode) & want) === want;
}

/** The three bits of the class `who` falls in for `inode`: owner, else group, else others. */
export function classBits(who: Reader, inode: Inode): number {
  if (who.uid === inode.uid) return (inode.mode >> 6) & 7;
  if (who.gid === inode.gid || who.groups.includes(inode.gid)) return (inode.mode >> 3) & 7;
  return inode.mode & 7;
}

/**
 * The folders from `top` down to `dir` (both included, both normalized
 * absolute paths); empty when `dir` is not `top` or below it. String work
 * only: it runs on every static request as root.
 */
export function foldersDown(top: string, dir: string): string[] {
  const base = top.length > 1 && top.endsWith('/') ? top.slice(0, -1) : top;
  if (dir !== base && !dir.startsWith(base === '/' ? '/' : `${base}/`)) return [];
  const out = [base];
  for (let at = dir.indexOf('/', base.length + 1); at !== -1; at = dir.indexOf('/', at + 1)) out.push(dir.slice(0, at));
  if (dir !== base) out.push(dir.endsWith('/') ? dir.slice(0, -1) : dir);
  return out;
}

/**
 * Why `who` could not read the file at the real path `file` (`st` its
 * stats, taken from the open file where there is one), passing through every
 * folder from `top` down to it; null when it could. The folders are stat'ed
 * now; a folder that is gone or not a folder refuses too.
 */
export function unreadableBy(
  who: Reader,
  file: string,
  st: Inode,
  top = '/',
  stat: (p: string) => Inode | null = statOrNull,
): string | null {
  const folders = foldersDown(top, path.dirname(file));
  if (!path.isAbsolute(file) || folders.length === 0) return `${file} is not a path below ${top}`;
  for (const dir of folders) {
    const s = stat(dir);
    if (s === null || (s.mode & 0o170000) !== 0o040000) return `folder ${dir} is gone or not a folder`;
    if (!permits(who, s, SEARCH)) return `folder ${dir} (${modeText(s)}) may not be passed through`;
  }
  if (!permits(who, st, READ)) return `${file} (${modeText(st)}) may not be read`;
  return null;
}

/** "mode 0600, owner uid 1001, group gid 1001", for log lines. */
export function modeText(inode: Inode): string {
  return `mode 0${(inode.mode & 0o7777).toString(8).padStart(3, '0')}, owner uid ${inode.uid}, group gid ${inode.gid}`;
}

function statOrNull(p: string): Stats | null {
  try {
    return statSync(p, { throwIfNoEntry: false }) ?? null;
  } catch {
    return null;
  }
}
