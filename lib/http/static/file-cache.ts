// Small static files kept in memory, checked against the disk on every use.
//
// A request for a 1 KB file streamed from disk costs 310-400 µs of CPU, much
// of it libuv thread-pool round trips (stat, open, read, close) and a stream
// pipeline; from memory, after one synchronous lstat (about 2 µs), the file
// is a Buffer handed to res.end(), headers and body in one write, and the
// whole request costs about 110 µs (bench/README.md).
//
// Rules, each for a reason:
//
// - Keyed by the real path lib/http/resolve.ts approved (inside the root, no
//   denied name), never by URL path: a symlink swapped to another file
//   resolves to another key, so a remembered file can never stand in for the
//   link's new target, and resolve has already refused a target outside the
//   root before we are asked.
// - Checked on every request: the path is lstat'ed and the entry is used only
//   if dev, ino, size, mtime and ctime (nanoseconds) are all what they were
//   when the bytes were read. An edit in place changes mtime/ctime, an atomic
//   save (write + rename) the inode, a deletion makes lstat fail: the next
//   request sees it. lstat, not stat: the real path's last component is no
//   symlink, and if one was put there since, we do not follow it (nor does
//   open(): O_NOFOLLOW), and lib/http/static/send.ts answers 404.
// - "Racy" files are served but not kept (the problem git calls racy-git):
//   file systems stamp times with a coarse clock (a few ms on Linux, 1 s on
//   ext3 and HFS+, 2 s on FAT), so a file written twice within one tick with
//   the same size keeps the same stamp. An entry is kept only if the file's
//   last change (the later of mtime and ctime) is more than RACY_MS before
//   the read began; any later write is then stamped differently. ctime cannot
//   be set back by utimes, tar or cp -p, so an old-looking mtime does not fool
//   it. A freshly edited file is thus read anew for two seconds, then kept.
// - A file that changes while it is read is not kept, and not served from
//   memory: fstat before and after the read must agree and the read must
//   return exactly `size` bytes with nothing after them; otherwise it is
//   tried again (MAX_READS in all), then left to the streaming path.
// - Bounded: files up to maxFileBytes, all entries together up to
//   maxTotalBytes (each charged its size plus ENTRY_OVERHEAD and its key),
//   least recently used dropped first. Only files that exist under the root
//   and were requested get in, so a client cannot fill it with made-up names.
//
// Reads on a miss are synchronous, like lib/http/resolve.ts's stat and realpath
// (see the comment there): for a small file the page cache holds, open +
// fstat + read + fstat + close is about 8 µs on the event loop, where the
// promise versions cost four thread-pool round trips (tens of µs of CPU each
// and a context switch). A miss is rare once the file is kept. The price is
// the same as resolve's: a document root on a slow network file system would
// stall the event loop while a file is read; keep it local.

import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, type BigIntStats } from 'node:fs';
import { msOf, validatorsOf } from './validators.js';

/** One version of a small file, with the validators ./answer.ts sends for it. */
export interface FileVersion {
  body: Buffer;
  /** W/"size-mtime" (./validators.ts): the ETag ./send.ts sets for a streamed file too. */
  etag: string;
  /** mtime as an HTTP date (stats.mtime.toUTCString()). */
  lastModified: string;
}

/** Why a file is not served from memory: the caller streams it instead. */
export type Skip = { skip: 'missing' | 'not-file' | 'too-big' | 'changing' | 'error' };

/** The identity of a file's content: all five equal means the same bytes. */
interface Stamp {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

interface Entry {
  stamp: Stamp;
  version: FileVersion;
  /** What the entry counts against maxTotalBytes. */
  cost: number;
  /** When it last moved to the most recently used end (now()). */
  moved: number;
}

/**
 * A hit moves its entry to the most recently used end at most this often.
 * Moving is a delete and a set on the Map; doing it on every request churns
 * the Map's table, and V8 chains each table a rehash leaves behind to the
 * next, which under load keeps garbage alive through scavenges (see
 * InFlight in lib/worker/worker.ts). The order is then right to within a second.
 */
const MOVE_MS = 1000;

/** The file-system calls the cache makes; node:fs's synchronous ones unless a test swaps them. */
export interface FileSystem {
  /** lstat with bigint times; undefined when nothing is there. */
  lstat(path: string): BigIntStats | undefined;
  /** Opens for reading without following a symlink in the last component. */
  open(path: string): number;
  fstat(fd: number): BigIntStats;
  read(fd: number, buffer: Buffer, offset: number, length: number, position: number): number;
  close(fd: number): void;
}

export const NODE_FS: FileSystem = {
  lstat: (p) => lstatSync(p, { bigint: true, throwIfNoEntry: false }),
  // O_NONBLOCK: a FIFO swapped in after the lstat must not block the event loop in open();
  // it has no effect on a regular file.
  open: (p) => openSync(p, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK),
  fstat: (fd) => fstatSync(fd, { bigint: true }),
  read: (fd, buffer, offset, length, position) => readSync(fd, buffer, offset, length, position),
  close: (fd) => closeSync(fd),
};

export interface FileCacheOptions {
  /** Larger files are never read into memory (default 256 KiB). */
  maxFileBytes?: number;
  /** All entries together (default 32 MiB). */
  maxTotalBytes?: number;
  /** A file changed less than this long before it is read is not kept (default RACY_MS). */
  racyMs?: number;
  /** Wall-clock milliseconds (Date.now), the clock file systems stamp with. */
  now?: () => number;
  fs?: FileSystem;
}

export const DEFAULT_MAX_FILE_BYTES = 256 * 1024;
export const DEFAULT_MAX_TOTAL_BYTES = 32 * 1024 * 1024;
/** Longer than the coarsest common timestamp tick (FAT's 2 s). */
export const RACY_MS = 2000;
/** Charged per entry besides its body and key: the Map slot, the objects, the header strings. */
export const ENTRY_OVERHEAD = 512;
/** Reads of a file that keeps changing before it is left to the streaming path. */
export const MAX_READS = 3;

export class FileCache {
  readonly maxFileBytes: number;
  readonly maxTotalBytes: number;
  private readonly maxFileSize: bigint;
  private readonly racyMs: number;
  private readonly now: () => number;
  private readonly fs: FileSystem;
  /** Real path → entry; Map order is use order, least recent first. */
  private readonly entries = new Map<string, Entry>();
  private total = 0;

  constructor(opts: FileCacheOptions = {}) {
    this.maxFileBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.maxTotalBytes = opts.maxTotalBytes ?? DEFAULT_MAX_TOTAL_BYTES;
    this.maxFileSize = BigInt(this.maxFileBytes);
    this.racyMs = opts.racyMs ?? RACY_MS;
    this.now = opts.now ?? Date.now;
    this.fs = opts.fs ?? NODE_FS;
  }

  /** Entries kept and the bytes they are charged (for tests and the curious). */
  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.total };
  }

  /** Whether `realPath` is kept now (without checking the disk). */
  has(realPath: string): boolean {
    return this.entries.has(realPath);
  }

  /**
   * The current content of the regular file at `realPath` (an absolute path
   * with no symlink in it, already approved for serving), from memory if the
   * disk says it has not changed, else read now (and kept if it may be).
   * Never throws: anything else is a Skip saying why. lib/http/static/send.ts
   * answers 404 to missing and not-file (the file resolve approved is no
   * longer there as a regular file) and streams the rest.
   */
  get(realPath: string): FileVersion | Skip {
    let st: BigIntStats | undefined;
    try {
      st = this.fs.lstat(realPath);
    } catch {
      st = undefined; // EACCES, ENOTDIR, ELOOP...: not there for us
    }
    const kept = this.entries.get(realPath);
    if (st === undefined || !st.isFile() || st.size > this.maxFileSize) {
      if (kept) this.drop(realPath, kept);
      return { skip: st === undefined ? 'missing' : !st.isFile() ? 'not-file' : 'too-big' };
    }
    if (kept) {
      if (sameStamp(kept.stamp, st)) {
        // Most recently used goes last.
        const now = this.now();
        if (now - kept.moved >= MOVE_MS) {
          kept.moved = now;
          this.entries.delete(realPath);
          this.entries.set(realPath, kept);
        }
        return kept.version;
      }
      this.drop(realPath, kept);
    }
    return this.load(realPath);
  }

  /** Reads the file (again if it changed meanwhile), keeps it unless it is racy or too big to keep. */
  private load(realPath: string): FileVersion | Skip {
    for (let attempt = 0; attempt < MAX_READS; attempt++) {
      const startedAt = this.now();
      const got = this.readWhole(realPath);
      if ('skip' in got) {
        if (got.skip === 'changing') continue;
        return got;
      }
      const version = versionOf(got.stamp, got.body);
      const changedAt = Math.max(msOf(got.stamp.mtimeNs), msOf(got.stamp.ctimeNs));
      if (changedAt < startedAt - this.racyMs)
        this.keep(realPath, { stamp: got.stamp, version, cost: costOf(realPath, got.body), moved: startedAt });
      return version;
    }
    return { skip: 'changing' };
  }

  /** open, fstat, read all, fstat, close: the bytes and the stamp they belong to, or why not. */
  private readWhole(realPath: string): { stamp: Stamp; body: Buffer } | Skip {
    const fd = this.open(realPath);
    if (typeof fd !== 'number') return fd;
    try {
      const before = this.fs.fstat(fd);
      if (!before.isFile()) return { skip: 'not-file' };
      if (before.size > this.maxFileSize) return { skip: 'too-big' };
      const size = Number(before.size);
      // Not from Buffer's shared pool: a kept 1 KB slice would hold on to the whole 8 KB pool slab.
      // One byte more than the size, to see whether the file grew meanwhile.
      const buffer = Buffer.allocUnsafeSlow(size + 1);
      const got = this.readUpTo(fd, buffer);
      const after = this.fs.fstat(fd);
      if (got !== size || !sameStamp(before, after)) return { skip: 'changing' };
      return { stamp: stampOf(after), body: buffer.subarray(0, size) };
    } catch {
      return { skip: 'error' };
    } finally {
      try {
        this.fs.close(fd);
      } catch {
        // nothing more to do with it
      }
    }
  }

  private open(realPath: string): number | Skip {
    try {
      return this.fs.open(realPath);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // ELOOP: a symlink now stands where resolve saw a file (O_NOFOLLOW).
      return { skip: code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : code === 'ELOOP' ? 'not-file' : 'error' };
    }
  }

  /** Reads from the file's start until `buffer` is full or the file ends; the bytes read. */
  private readUpTo(fd: number, buffer: Buffer): number {
    let got = 0;
    for (let n: number; got < buffer.length && (n = this.fs.read(fd, buffer, got, buffer.length - got, got)) > 0; )
      got += n;
    return got;
  }

  private keep(realPath: string, entry: Entry): void {
    if (entry.cost > this.maxTotalBytes) return;
    // Least recently used first, until the new entry fits.
    for (const [key, old] of this.entries) {
      if (this.total + entry.cost <= this.maxTotalBytes) break;
      this.drop(key, old);
    }
    this.entries.set(realPath, entry);
    this.total += entry.cost;
  }

  private drop(realPath: string, entry: Entry): void {
    this.entries.delete(realPath);
    this.total -= entry.cost;
  }
}

function stampOf(st: BigIntStats): Stamp {
  return { dev: st.dev, ino: st.ino, size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs };
}

function sameStamp(a: Stamp, b: BigIntStats | Stamp): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.dev === b.dev;
}

function costOf(realPath: string, body: Buffer): number {
  return body.length + 2 * realPath.length + ENTRY_OVERHEAD;
}

/** The response validators for these bytes, as ./send.ts makes them from fs.Stats for a streamed file. */
export function versionOf(stamp: Stamp, body: Buffer): FileVersion {
  return { body, ...validatorsOf(Number(stamp.size), msOf(stamp.mtimeNs)) };
}
