// A short memory for lib/http/resolve.ts. Resolving a path costs a few stat and
// realpath calls per request (a sixth of the server's CPU on a hello-world
// page, 20-40 µs of a static file's ~110); most requests ask for the same few
// paths again and again.
//
// Pages and static files are kept, for TTL_MS: a page created a moment ago is
// never hidden by a remembered 404, and a deletion or rename is seen within a
// second (a deleted static file at once: lib/http/static/send.ts checks the
// file itself on every request). Edits to a page's code do not go through
// here: the worker's imported files are checked on every request
// (lib/groups/group.ts), so "save, reload, see the change" is immediate.
//
// A remembered answer is a real path, checked once. For a static file, which
// Node itself opens, it is used again only while that path still names the
// very file approved: lstat of it gives the same device, inode and ctime,
// and it is no symlink (one lstat, 4 µs, where realpath walked every folder
// for 11). A folder on the way swapped for a symlink since leads to another
// inode (or to the same file, which is harmless), and a file replaced or
// chowned has a new inode or ctime: the path is then resolved again. The
// identity itself is read from the opened file, never from the path a
// second time (stampOf). For a page this is not
// checked when pages run as the server's user (symlinks: follow): a page runs
// arbitrary code as that user, so a symlink rule is no boundary for it. Under
// symlinks: owner-match it is (a page then runs as its owner, and a link to
// another's script must not run it), so a page is checked as a file is: the
// real path resolve approved, links and owners included, is used only while
// it is still that file, so no link put in its place since is followed. What
// can be seen for up to a second: a link on the URL path swapped to another
// approved file still serves the old one, a folder that just became a
// package still serves its files, and an owner changed by root (chown) is
// seen at the next resolve. Refusals (not-found) are never remembered.

import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync } from 'node:fs';
import { resolve, type ResolveOptions, type Target } from './resolve.js';

const TTL_MS = 1000;
const O_PATH = 0o10000000; // Linux's, on x86-64 and arm64; Node does not export it
const MAX_ENTRIES = 10_000;
const MAX_KEY = 1024; // longer paths are resolved every time: a client must not fill memory with them

interface Entry {
  target: Target;
  expires: number;
  /** The approved file's identity, when it must still be that file to be used (recheck). */
  stamp: Stamp | null;
}

interface Stamp {
  file: string;
  dev: number;
  ino: number;
  ctimeMs: number;
}

export class ResolveCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly root: string,
    private readonly opts: ResolveOptions,
  ) {}

  /** resolve(root, rawPath, rawQuery), answered from memory when it was a page or a file less than a second ago. */
  resolve(rawPath: string, rawQuery: string): Target {
    // A site whose folders have settings (.pypages.yaml) resolves every time: an edit holds at the next request.
    if (this.opts.folder) return resolve(this.root, rawPath, rawQuery, this.opts);
    const now = Date.now();
    const hit = this.entries.get(rawPath);
    if (hit && hit.expires > now && (hit.stamp === null || sameFile(hit.stamp))) return hit.target;
    const target = resolve(this.root, rawPath, rawQuery, this.opts);
    if ((target.kind === 'script' || target.kind === 'static') && rawPath.length <= MAX_KEY)
      this.remember(rawPath, target, now);
    return target;
  }

  /** Whether a remembered target must still be its real path to be used (Node opens it, or owner-match holds). */
  private recheck(target: Target): target is Extract<Target, { file: string }> {
    return target.kind === 'static' || (target.kind === 'script' && this.opts.ownerMatch !== undefined);
  }

  private remember(rawPath: string, target: Target, now: number): void {
    let stamp: Stamp | null = null;
    if (this.recheck(target) && (stamp = stampOf(target.file)) === null) return; // changing under us: not kept
    if (this.entries.size >= MAX_ENTRIES) this.forget(now);
    this.entries.set(rawPath, { target, expires: now + TTL_MS, stamp });
  }

  /** Drops expired entries; if all are fresh (a scan of many paths), drops them all. */
  private forget(now: number): void {
    for (const [key, entry] of this.entries) if (entry.expires <= now) this.entries.delete(key);
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
  }
}

/**
 * The identity of the regular file at the real path `file`, taken from the
 * file itself: opened without following a link at its end (O_PATH: no read
 * permission needed, a page only its owner may read included), its stats read
 * from the descriptor, and the descriptor's own path (/proc/self/fd) must
 * be `file`, so a folder swapped for a link during the look cannot lend
 * another file's identity to this path. Null if it is not that now.
 */
function stampOf(file: string): Stamp | null {
  let fd: number | null = null;
  try {
    fd = openSync(file, O_PATH | constants.O_NOFOLLOW);
    const st = fstatSync(fd);
    if (!st.isFile() || readlinkSync(`/proc/self/fd/${fd}`) !== file) return null;
    return { file, dev: st.dev, ino: st.ino, ctimeMs: st.ctimeMs };
  } catch {
    return null;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** True while `stamp.file` names, without a link at its end, the file the stamp was taken of. */
function sameFile(stamp: Stamp): boolean {
  try {
    const st = lstatSync(stamp.file, { throwIfNoEntry: false });
    return st?.isFile() === true && st.ino === stamp.ino && st.dev === stamp.dev && st.ctimeMs === stamp.ctimeMs;
  } catch {
    return false; // a folder on the way is no longer one (ENOTDIR), or may not be entered
  }
}
