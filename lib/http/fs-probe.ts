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
