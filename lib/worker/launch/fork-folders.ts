// The private folders that hold fork servers' sockets. Each is named for the
// Node process that owns it, "pypages-fork-PID-START-XXXXXX" (START: its
// start time, lib/util/process-identity.ts), so that a server that was killed
// before it could remove its folder leaves one that a later server can tell
// from a live one's, and remove.

import { chmodSync, chownSync, lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net, { type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getSystemErrorName } from 'node:util';
import type { RunAs } from '../../tenant/identity.js';
import type { ForkSocket } from '../../tenant/root-side.js';
import type { Logger } from '../../util/log.js';
import { identify, isAlive } from '../../util/process-identity.js';

const PREFIX = 'pypages-fork-';
const OWNED = /^pypages-fork-(\d+)-(\d+)-[^-]+$/;

/** A new 0700 folder (only our user can connect to a socket in it), named for this process. */
export function makeForkFolder(): string {
  return mkdtempSync(join(tmpdir(), `${PREFIX}${ownerTag()}-`));
}

type CreateServerHandle = (path: string, port: -1, addressType: -1) => (object & { close(): void }) | number;

/**
 * A fork server's socket in a new folder of its own, for the server that
 * accepts on it. `bound`: bound here and now, for the root launcher
 * to pass to a server child that is not root (as server/listen-handle.ts
 * passes the TCP socket; Node's internal net._createServerHandle is how the
 * cluster module makes such handles); the launcher keeps its handle until the
 * fork server exits (libuv unlinks a socket's path when the handle that bound
 * it closes). Else the server listens on the path itself. For a user, the
 * socket becomes the user's (handFolderTo).
 */
export function forkSocket(runAs: RunAs | null, bound: boolean): ForkSocket {
  const dir = makeForkFolder();
  const path = join(dir, 'workers.sock');
  const rm = () => rmSync(dir, { recursive: true, force: true });
  if (!bound) {
    const listen = async (server: Server) => {
      await listenOn(server, path);
      if (runAs) handFolderTo(dir, path, runAs);
    };
    return { path, listen, remove: rm };
  }
  const create = (net as unknown as { _createServerHandle: CreateServerHandle })._createServerHandle;
  const handle = create(path, -1, -1);
  if (typeof handle === 'number') {
    rm();
    throw new Error(`cannot listen on ${path}: ${getSystemErrorName(handle)}`);
  }
  const remove = () => {
    handle.close();
    rm();
  };
  try {
    if (runAs) handFolderTo(dir, path, runAs);
  } catch (err) {
    remove();
    throw new Error(`cannot give ${path} to ${runAs?.user}: ${(err as Error).message}`);
  }
  return { path, handle, remove, listen: () => Promise.reject(new Error('the launcher does not listen')) };
}

/** server.listen(target), settled by 'listening', 'error', or a close before it listened (the fork server died first). */
export function listenOn(server: Server, target: string | object): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const closed = () => reject(new Error('closed before it listened'));
    server.once('error', reject).once('close', closed);
    server.listen(target, () => resolve(void server.off('close', closed)));
  });
}

/**
 * The socket becomes the user's, mode 0600: its workers can connect, no other
 * tenant can. Its folder stays root's (0711: passed through, not listed nor
 * written): a folder of the tenant's own would let it put there what root
 * later removes recursively, and swap a subfolder for a link in the middle of
 * that removal, making root delete files anywhere (and the removal throw,
 * ending the server).
 */
function handFolderTo(dir: string, socketPath: string, runAs: RunAs): void {
  chmodSync(dir, 0o711);
  chownSync(socketPath, runAs.uid, runAs.gid);
  chmodSync(socketPath, 0o600);
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
