// What a FILE frame (./file-wrapper.ts) may make Node open. Started as
// root, Node can open anything, and a page may name any path (a hostile one
// writes its own FILE frame). So when the page runs as a user, Node sends
// only a file that user could have opened itself: it opens the path, takes
// the true path of what it opened (the fd's link in /proc/self/fd: no
// symlink or /proc/PID/fd alias is trusted), and asks lib/tenant/access.ts
// whether every folder down to it may be passed through and the file read
// by the user's uid, gid and groups. If not, the answer is "could not open":
// the page then sends the file as BODY itself, as its own user, and the
// kernel decides. Only regular files are sent, whoever the page runs as.
import { constants } from 'node:fs';
import { open, readlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { unreadableBy } from '../tenant/access.js';
import type { RunAs } from '../tenant/identity.js';
import type { PageFile } from './file-wrapper.js';

/** A file Node opened but may not send: `message` is for the page, `why` for the log. */
export class Refused extends Error {
  constructor(
    message: string,
    readonly why: string,
  ) {
    super(message);
  }
}

/**
 * Opens the regular file a page names, if `runAs` (null: no user switched)
 * may read it: its handle, or the error to tell the page (FILE_OPENED). On
 * Linux the path is first opened with O_PATH, which opens nothing: no
 * device's driver runs (a page naming /dev/watchdog must not arm it as
 * root), no FIFO blocks; the file itself is opened through that handle
 * once it is known to be a regular file the user may read.
 */
export async function openPageFile(file: PageFile, runAs: RunAs | null = null): Promise<FileHandle | Error> {
  let probe: FileHandle;
  try {
    probe = await open(file.path, LINUX ? O_PATH : constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    return err as Error;
  }
  const why = await refusalOf(probe, runAs).catch((err: Error) => `it could not be checked: ${err.message}`);
  if (why === null && !LINUX) return probe;
  try {
    if (why !== null) return new Refused(`EACCES: not a regular file that ${runAs?.user ?? 'the page'} may read`, why);
    return await open(`/proc/self/fd/${probe.fd}`, constants.O_RDONLY);
  } catch (err) {
    return err as Error;
  } finally {
    await probe.close().catch(() => {});
  }
}

const LINUX = process.platform === 'linux';
/** Linux's O_PATH (Node's constants lack it): a handle on the inode that fstat and /proc/self/fd can use. */
const O_PATH = 0o10000000;

/** Why the open `handle` must not be sent for a page running as `runAs`; null if it may. */
async function refusalOf(handle: FileHandle, runAs: RunAs | null): Promise<string | null> {
  const st = await handle.stat();
  if (!st.isFile()) return 'not a regular file';
  if (runAs === null) return null;
  const real = LINUX ? await readlink(`/proc/self/fd/${handle.fd}`) : '';
  const why = path.isAbsolute(real) ? unreadableBy(runAs, real, st) : `its true path is unknown (${real})`;
  return (
    why &&
    `${why} by ${runAs.user} (uid ${runAs.uid}, gid ${runAs.gid}, groups ${runAs.groups.join(',')}), the user the page runs as`
  );
}
