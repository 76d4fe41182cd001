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
// Node itself opens, it is used again only while it is still a real path
// (realpath of it is itself, 5 µs): a folder on the way swapped for a symlink
// since would otherwise lead the read out of the root. For a page this is not
// checked when pages run as the server's user (symlinks: follow): a page runs
// arbitrary code as that user, so a symlink rule is no boundary for it. Under
// symlinks: owner-match it is (a page then runs as its owner, and a link to
// another's script must not run it), so a page is checked as a file is: the
// real path resolve approved, links and owners included, is used only while
// it is still itself, so no link put in its place since is followed. What
// can be seen for up to a second: a link on the URL path swapped to another
// approved file still serves the old one, a folder that just became a
// package still serves its files, and an owner changed by root (chown) is
// seen at the next resolve. Refusals (not-found) are never remembered.

import { realpathSync } from 'node:fs';
import { resolve, type ResolveOptions, type Target } from './resolve.js';

const TTL_MS = 1000;
const MAX_ENTRIES = 10_000;
const MAX_KEY = 1024; // longer paths are resolved every time: a client must not fill memory with them

interface Entry {
  target: Target;
  expires: number;
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
    if (hit && hit.expires > now && (!this.recheck(hit.target) || stillReal(hit.target.file))) return hit.target;
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
    if (this.entries.size >= MAX_ENTRIES) this.forget(now);
    this.entries.set(rawPath, { target, expires: now + TTL_MS });
  }

  /** Drops expired entries; if all are fresh (a scan of many paths), drops them all. */
  private forget(now: number): void {
    for (const [key, entry] of this.entries) if (entry.expires <= now) this.entries.delete(key);
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
  }
}

/** True while no component of `file` (a real path once) has become a symlink, and it still exists. */
function stillReal(file: string): boolean {
  try {
    return realpathSync.native(file) === file;
  } catch {
    return false;
  }
}
