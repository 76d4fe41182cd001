// Started as root, a static file is sent only if "others" may read it and
// every folder from the site's root down to it may be passed through by
// others: what a web server running as an unprivileged user (Apache's or
// nginx's www-data) could read. The reason: Node reads as root, so the kernel
// refuses it nothing, and without this rule a tenant's 0600 file (a
// database password in config.ini, a private key) would be sent to anyone
// who names it, where an unprivileged Apache would answer 403. A tenant
// keeps a file out of the web the way it always has, with chmod; and a
// folder or file made 0700/0600 by a careless umask is a 403 with a log line
// saying what to chmod, never a leak. Group bits are not counted: the web
// server's group is no tenant's (a file shared with www-data by group is
// refused; give others read, or serve it from a page).
//
// Not started as root: nothing is checked here; the kernel holds Node to the
// server's own user, as it always did.
//
// Cost: the file is stat'ed on every request, so a chmod of it holds at the
// next one; the folders' owners and modes are remembered for a second (a
// stat each was a quarter of resolve's time per static request), so a chmod
// of a folder holds within a second, as a path's answer in ../resolve-cache.ts.
import { statSync } from 'node:fs';
import { type Inode, OTHERS, unreadableBy } from '../../tenant/access.js';
import { startedAsRoot } from '../../tenant/identity.js';

/**
 * Why the static file `file` (a real path resolve approved, below the real
 * folder `root`) must not be sent: a 403's log line; null when it may be
 * (or when not started as root). A file gone since is left to the sender's 404.
 */
export function staticRefusal(root: string, file: string, asRoot = startedAsRoot()): string | null {
  if (!asRoot) return null;
  const st = statSync(file, { throwIfNoEntry: false });
  if (st === undefined) return null;
  const why = unreadableBy(OTHERS, file, st, root, folderInode);
  if (why === null) return null;
  return `${why} by others: started as root, pypages sends only what a web server without privileges could read (chmod o+r the file, o+x its folders)`;
}

const FOLDER_MS = 1000;
const MAX_FOLDERS = 10_000; // folders of files that exist and were asked for: few, but bounded all the same
const folders = new Map<string, { inode: Inode | null; until: number }>();

/** A folder's owner, group and mode, as they were less than a second ago. */
function folderInode(dir: string): Inode | null {
  const now = Date.now();
  const known = folders.get(dir);
  if (known && known.until > now) return known.inode;
  if (folders.size >= MAX_FOLDERS) folders.clear();
  const s = statSync(dir, { throwIfNoEntry: false });
  const inode = s ? { uid: s.uid, gid: s.gid, mode: s.mode } : null;
  folders.set(dir, { inode, until: now + FOLDER_MS });
  return inode;
}
