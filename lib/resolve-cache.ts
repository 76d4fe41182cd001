// A short memory for lib/resolve.ts. Resolving a path costs a few stat and
// realpath calls per request (a sixth of the server's CPU on a hello-world
// page); most requests ask for the same few paths again and again.
//
// Only scripts are kept, and only for TTL_MS: a page created a moment ago is
// never hidden by a remembered 404, and a deletion or rename is seen within a
// second. Static files are not kept: koa-static opens them by URL path again,
// so a remembered answer would skip the symlink and deny checks if a link
// were swapped in between. A script's answer is its real path, checked once,
// which a swapped link cannot redirect. Edits to a page's code do not go
// through here: the worker's imported files are checked on every request
// (lib/group.ts), so "save, reload, see the change" is immediate.

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

  constructor(private readonly root: string, private readonly opts: ResolveOptions) {}

  /** resolve(root, rawPath, rawQuery), answered from memory when it was a page less than a second ago. */
  resolve(rawPath: string, rawQuery: string): Target {
    const now = Date.now();
    const hit = this.entries.get(rawPath);
    if (hit && hit.expires > now) return hit.target;
    const target = resolve(this.root, rawPath, rawQuery, this.opts);
    if (target.kind === 'script' && rawPath.length <= MAX_KEY) this.remember(rawPath, target, now);
    return target;
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
