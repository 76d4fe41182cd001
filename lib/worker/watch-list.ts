// WATCH's file list (lib/worker/protocol.md, "Worker-level frames"), checked
// and bounded. Node stats every listed file on its main thread before a
// group's requests (lib/groups/group.ts), and parses every WATCH whole, so a
// page that forges WATCH frames could stall every site with a list of a
// million paths or an endless stream of lists. A worker may list at most
// MAX_WATCHED_FILES files and send at most WATCH_BYTES of lists in its life;
// past either it is broken (a ProtocolError) and replaced.

import { parseJson, ProtocolError } from './protocol.js';

/** More files than any page imports from its document root (Django itself is about 900 modules). */
export const MAX_WATCHED_FILES = 20_000;
/** WATCH payload bytes one worker may send in its life: each lists every file, so a list that grows in steps is sent many times. */
export const WATCH_BYTES = 64 * 1024 * 1024;
const MAX_PATH = 4096;

export interface WatchedFile {
  path: string;
  mtimeNs: string;
  size: number;
}

/** One worker's WATCH frames: each checked and counted against the worker's budget. */
export class WatchBudget {
  private bytes = 0;

  /** The list a WATCH payload carries; a malformed one, or one past the bounds, is a ProtocolError. */
  check(payload: Buffer): WatchedFile[] {
    this.bytes += payload.length;
    if (this.bytes > WATCH_BYTES)
      throw new ProtocolError(`WATCH lists of ${this.bytes} bytes in all, more than ${WATCH_BYTES}`);
    const files = parseJson<{ files?: unknown }>(payload).files;
    if (Array.isArray(files) && files.length > MAX_WATCHED_FILES)
      throw new ProtocolError(`WATCH of ${files.length} files, more than ${MAX_WATCHED_FILES}`);
    return parseWatch(files);
  }
}

function parseWatch(files: unknown): WatchedFile[] {
  const ok = (f: unknown): f is [string, string, number] =>
    Array.isArray(f) &&
    typeof f[0] === 'string' &&
    f[0].length <= MAX_PATH &&
    /^\d{1,30}$/.test(String(f[1])) &&
    Number.isInteger(f[2]);
  if (!Array.isArray(files) || !files.every(ok))
    throw new ProtocolError('WATCH must list [path, mtime_ns, size] entries');
  return files.map(([path, mtimeNs, size]) => ({ path, mtimeNs: String(mtimeNs), size }));
}
