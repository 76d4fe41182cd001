// Compressed copies of static files, one per file version and encoding,
// made once (on the thread pool) and kept in memory within a byte budget.
//
// A version is the file's real path and its ETag (size and mtime: see
// ./validators.ts); a request for a newer version replaces the entry, so an
// edited file is never answered with its old bytes. Requests that arrive
// while a copy is being made wait for that one compression rather than
// starting their own. A file that does not shrink by a tenth is remembered
// as such (null), so it is not compressed again at every request.

import { compress, type Encoding } from '../compression.js';

/** Files larger than this are sent as they are: ~0.4 s of brotli 5 on one core, and the copy in memory. */
export const MAX_COMPRESS_BYTES = 8 * 1024 * 1024;
/** All copies together (default). */
export const DEFAULT_COMPRESSED_BYTES = 32 * 1024 * 1024;
/** A copy must be at most this fraction of the original to be worth its Content-Encoding. */
const WORTH = 0.9;
/** Charged per entry besides its bytes: the Map slot, the key, the objects. */
const ENTRY_OVERHEAD = 512;

interface Entry {
  etag: string;
  copy: Promise<Buffer | null>;
  cost: number;
}

export class CompressedCache {
  /** `${path}\0${encoding}` → entry; Map order is use order, least recent first. */
  private readonly entries = new Map<string, Entry>();
  private total = 0;

  constructor(private readonly maxTotalBytes = DEFAULT_COMPRESSED_BYTES) {}

  /** Copies kept and the bytes they are charged. */
  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.total };
  }

  /**
   * The file at `path`, version `etag`, compressed with `encoding`; null when
   * it does not shrink enough or `load` (the file's bytes of that version,
   * or null if they cannot be read as such) gives nothing. Never rejects.
   */
  get(path: string, etag: string, encoding: Encoding, load: () => Promise<Buffer | null>): Promise<Buffer | null> {
    const key = `${path}\0${encoding}`;
    const kept = this.entries.get(key);
    if (kept && kept.etag === etag) {
      this.entries.delete(key);
      this.entries.set(key, kept);
      return kept.copy;
    }
    if (kept) this.drop(key, kept);
    const entry: Entry = { etag, copy: make(encoding, load), cost: ENTRY_OVERHEAD + key.length * 2 };
    this.entries.set(key, entry);
    this.total += entry.cost;
    void entry.copy.then((copy) => {
      if (this.entries.get(key) !== entry || copy === null) return; // replaced or dropped meanwhile
      entry.cost += copy.length;
      this.total += copy.length;
      this.trim();
    });
    return entry.copy;
  }

  /** Least recently used first, until the copies fit the budget. */
  private trim(): void {
    for (const [key, entry] of this.entries) {
      if (this.total <= this.maxTotalBytes) return;
      this.drop(key, entry);
    }
  }

  private drop(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.total -= entry.cost;
  }
}

async function make(encoding: Encoding, load: () => Promise<Buffer | null>): Promise<Buffer | null> {
  try {
    const body = await load();
    if (body === null || body.length > MAX_COMPRESS_BYTES) return null;
    const copy = await compress(body, encoding);
    return copy.length <= body.length * WORTH ? copy : null;
  } catch {
    return null; // unreadable now: sent as it is
  }
}
