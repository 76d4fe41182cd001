// A short memory for lib/resolve.ts. Resolving a path costs a few stat and
// realpath calls per request (a sixth of the server's CPU on a hello-world
// page); most requests ask for the same few paths again and again.
//
// Only positive answers (a script or a static file) are kept, and only for
// TTL_MS: a page created a moment ago is never hidden by a remembered 404,
// and a deletion or rename is seen within a second. Edits to a page's code do
// not go through here: the worker's imported files are checked on every
// request (lib/group.ts), so "save, reload, see the change" is immediate.

import { resolve, type ResolveOptions, type Target } from './resolve.js';

const TTL_MS = 1000;
const MAX_ENTRIES = 10_000;

interface Entry {
  target: Target;
  expires: number;
}

export class ResolveCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly root: string, private readonly opts: ResolveOptions) {}

  /** resolve(root, rawPath, rawQuery), answered from memory when it was a page or a file less than a second ago. */
  async resolve(rawPath: string, rawQuery: string): Promise<Target> {
    const now = Date.now();
    const hit = this.entries.get(rawPath);
    if (hit && hit.expires > now) return hit.target;
    const target = await resolve(this.root, rawPath, rawQuery, this.opts);
    if (target.kind === 'script' || target.kind === 'static') this.remember(rawPath, target, now);
    return target;
  }

  private remember(rawPath: string, target: Target, now: number): void {
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear(); // a scan of many paths must not grow memory
    this.entries.set(rawPath, { target, expires: now + TTL_MS });
  }
}
