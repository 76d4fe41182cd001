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
import { open, readlink, stat, statfs, type FileHandle } from 'node:fs/promises';
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
  if (!path.isAbsolute(real)) return `its true path is unknown (${real})`;
  const odd = await notPlainFile(real, st);
  if (odd) return odd;
  const why = unreadableBy(runAs, real, st);
  return (
    why &&
    `${why} by ${runAs.user} (uid ${runAs.uid}, gid ${runAs.gid}, groups ${runAs.groups.join(',')}), the user the page runs as`
  );
}

/**
 * Filesystems whose mode bits do not say who may read (the kernel decides at
 * open: /proc/PID/maps is 0444 yet only its owner's to open); Node, as root,
 * passes those checks. proc, sysfs, debugfs, tracefs, securityfs, cgroup v1
 * and v2, configfs, bpf, efivarfs.
 */
const PSEUDO = new Set([
  0x9fa0, 0x62656572, 0x64626720, 0x74726163, 0x73636673, 0x27e0eb, 0x63677270, 0x62656570, 0xcafe4a11, 0xde5e81e4,
]);

/**
 * Why the opened file (`st`, its true path `real`) is not a plain file a
 * page may have Node send: on a pseudo-filesystem, or not what its path
 * names (deleted, a memfd, another process's file through /proc/PID/fd:
 * the path its mode would be judged along is not its own). Null if plain.
 */
async function notPlainFile(real: string, st: { dev: number; ino: number }): Promise<string | null> {
  const there = await stat(real).catch(() => null);
  if (!there || there.dev !== st.dev || there.ino !== st.ino) return `${real} is not the file its path names now`;
  const fs = await statfs(real).catch(() => null);
  if (!fs || PSEUDO.has(fs.type)) return `${real} is on a pseudo-filesystem (its mode bits do not say who may read it)`;
  return null;
}
