// How ./resolve.ts looks at files. Any fs failure (ENOENT, EACCES, ENOTDIR,
// ENAMETOOLONG, ELOOP, ...) means "nothing servable here": null, which the
// caller turns into not-found.
//
// Synchronous on purpose: a stat or realpath of a local file the kernel has
// cached takes microseconds, while the promise versions cost tens of
// microseconds of CPU each in thread-pool hand-offs; they were a third of
// the server's CPU per request (bench/README.md). A document root on a slow
// network filesystem would stall the event loop instead: keep it local.
import { realpathSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';

/** The real path of `p`, or null. */
export function realpathOrNull(p: string): string | null {
  try {
    return realpathSync.native(p);
  } catch {
    return null;
  }
}

/** The stats of `p` (symlinks followed), or null. */
export function statOrNull(p: string): Stats | null {
  try {
    return statSync(p, { throwIfNoEntry: false }) ?? null;
  } catch {
    return null;
  }
}

/** `real` relative to `root` if it is `root` or below it, else null. */
export function relativeInside(root: string, real: string): string | null {
  if (real === root) return '';
  const prefix = root.endsWith(path.sep) ? root : root + path.sep;
  return real.startsWith(prefix) ? real.slice(prefix.length) : null;
}
