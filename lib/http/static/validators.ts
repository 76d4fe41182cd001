// The validators a static file is sent with, the same from memory
// (./file-cache.ts) and streamed (./send.ts): an ETag of size and mtime,
// and Last-Modified, computed from a file's times exactly as fs.Stats
// computes mtimeMs and mtime, so both paths give the same numbers.

const NS_PER_S = 1_000_000_000n;

/**
 * Node's number `mtimeMs` for a time in nanoseconds, computed as fs.Stats
 * computes it (whole seconds × 1e3 + nanoseconds / 1e6, in floating point),
 * so the ETag and Last-Modified are exactly those an fs.Stats of the file gives.
 */
export function msOf(ns: bigint): number {
  let sec = ns / NS_PER_S;
  let nsec = ns % NS_PER_S;
  if (nsec < 0n) {
    nsec += NS_PER_S;
    sec -= 1n;
  }
  return Number(sec) * 1e3 + Number(nsec) / 1e6;
}

/** ETag and Last-Modified of a file of `size` bytes last modified at `mtimeMs`. */
export function validatorsOf(size: number, mtimeMs: number): { etag: string; lastModified: string } {
  // fs.Stats' mtime is new Date(Math.round(mtimeMs)).
  return { etag: etagOf(size, mtimeMs), lastModified: new Date(Math.round(mtimeMs)).toUTCString() };
}

/**
 * The ETag of a file of `size` bytes last modified at `mtimeMs`:
 * "size-mtime", both in hex, mtime in whole milliseconds. Strong, as
 * nginx's and Apache's are, so If-Range can use it (a weak tag never
 * matches there); a compressed copy is sent with the same tag made weak.
 */
export function etagOf(size: number, mtimeMs: number): string {
  return `"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`;
}
