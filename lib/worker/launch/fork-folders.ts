// The private folders that hold fork servers' sockets. Each is named for the
// Node process that owns it, "pypages-fork-PID-START-XXXXXX" (START: its
// start time, lib/util/process-identity.ts), so that a server that was killed
// before it could remove its folder leaves one that a later server can tell
// from a live one's, and remove.

import { lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../util/log.js';
import { identify, isAlive } from '../../util/process-identity.js';

const PREFIX = 'pypages-fork-';
const OWNED = /^pypages-fork-(\d+)-(\d+)-[^-]+$/;

/** A new 0700 folder (only our user can connect to a socket in it), named for this process. */
export function makeForkFolder(): string {
  return mkdtempSync(join(tmpdir(), `${PREFIX}${ownerTag()}-`));
}

let swept = false;

/** removeStaleForkFolders, once in this process's life: a dead server's folders do not come back, and a reload's new fork server need not look again. */
export function removeStaleForkFoldersOnce(log: Logger): void {
  if (swept) return;
  swept = true;
  removeStaleForkFolders(log);
}

/**
 * Removes the fork-server folders in the temp folder whose owner has died
 * (its pid is gone, or names a process with another start time). Folders of
 * live servers, of other users, and of other names are left alone. Never
 * throws; returns the folders removed.
 */
export function removeStaleForkFolders(log: Logger, dir = tmpdir()): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.startsWith(PREFIX));
  } catch {
    return removed;
  }
  for (const name of names) {
    const owner = OWNED.exec(name);
    if (!owner) continue; // not one we name: maybe a live server of another version
    const path = join(dir, name);
    try {
      const st = lstatSync(path);
      // Only our own: removing another user's folder recursively, as root, would let that user swap a
      // subfolder for a link meanwhile and have root delete what the link leads to.
      if (!st.isDirectory() || st.uid !== process.getuid?.()) continue;
      const start = Number(owner[2]);
      if (isAlive({ pid: Number(owner[1]), start: start === 0 ? null : start })) continue;
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
    } catch (err) {
      log.error(`cannot remove the stale fork-server folder ${path}: ${(err as Error).message}`);
    }
  }
  if (removed.length) log.info(`removed ${removed.length} fork-server folder(s) of servers that are gone`);
  return removed;
}

/** "PID-START" of this process (START 0 where there is no /proc). */
function ownerTag(): string {
  return `${process.pid}-${identify(process.pid)?.start ?? 0}`;
}
