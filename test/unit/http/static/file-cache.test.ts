// lib/http/static/file-cache.ts: small files in memory, checked against the disk on every use.
// Real files in a temp folder for what the kernel decides (inodes, ctime,
// symlinks), a scripted file system for what a real one cannot be made to do
// on cue (a file changing between two fstat calls, failing reads).
import {
  chmodSync,
  fstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
  type BigIntStats,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_FILE_BYTES,
  DEFAULT_MAX_TOTAL_BYTES,
  ENTRY_OVERHEAD,
  FileCache,
  MAX_READS,
  NODE_FS,
  RACY_MS,
  versionOf,
  type FileSystem,
  type FileVersion,
  type Skip,
} from '../../../../lib/http/static/file-cache.js';
import { etagOf, msOf } from '../../../../lib/http/static/validators.js';

let dir: string;
beforeEach(() => (dir = realpathSync(mkdtempSync(join(tmpdir(), 'pypages-file-cache-')))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A clock far enough ahead that every file looks settled (not racy). */
const later = () => Date.now() + 60_000;

/** node:fs, counting opens and closes. */
function countingFs(): FileSystem & { opens: number; closes: number } {
  const fs = {
    opens: 0,
    closes: 0,
    lstat: NODE_FS.lstat,
    open: (p: string) => {
      fs.opens++;
      return NODE_FS.open(p);
    },
    fstat: NODE_FS.fstat,
    read: NODE_FS.read,
    close: (fd: number) => {
      fs.closes++;
      NODE_FS.close(fd);
    },
  };
  return fs;
}

function served(got: FileVersion | Skip): FileVersion {
  if ('skip' in got) throw new Error(`expected the file, got skip: ${got.skip}`);
  return got;
}

function write(name: string, content: string | Buffer): string {
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}

/** Sets mtime (seconds, fractional) and leaves ctime to the kernel (now). */
function setMtime(file: string, seconds: number): void {
  utimesSync(file, seconds, seconds);
}

describe('FileCache: serving', () => {
  it('serves the bytes with the ETag and Last-Modified koa-send would make from fs.Stats', () => {
    const file = write('a.css', 'body { color: #333; }\n');
    const got = served(new FileCache({ now: later }).get(file));
    const st = statSync(file);
    expect(got.body.toString()).toBe('body { color: #333; }\n');
    expect(got.etag).toBe(`"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`);
    expect(got.lastModified).toBe(st.mtime.toUTCString());
  });

  it('serves an empty file', () => {
    const file = write('empty.txt', '');
    const got = served(new FileCache({ now: later }).get(file));
    expect(got.body.length).toBe(0);
    expect(got.etag).toMatch(/^"0-[0-9a-f]+"$/);
  });

  it('serves a file of exactly maxFileBytes, and binary bytes unchanged', () => {
    const bytes = Buffer.alloc(4096);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7) % 256;
    const file = write('blob.bin', bytes);
    const got = served(new FileCache({ now: later, maxFileBytes: 4096 }).get(file));
    expect(got.body.equals(bytes)).toBe(true);
  });

  it('uses the defaults it documents', () => {
    const cache = new FileCache();
    expect(cache.maxFileBytes).toBe(DEFAULT_MAX_FILE_BYTES);
    expect(cache.maxTotalBytes).toBe(DEFAULT_MAX_TOTAL_BYTES);
    expect(DEFAULT_MAX_FILE_BYTES).toBe(256 * 1024);
    expect(RACY_MS).toBeGreaterThanOrEqual(2000); // FAT's 2 s tick
  });
});

describe('FileCache: keeping and checking', () => {
  it('keeps a settled file: the next request reads nothing, only lstat', () => {
    const fs = countingFs();
    const file = write('a.txt', 'hello');
    const cache = new FileCache({ now: later, fs });
    const first = served(cache.get(file));
    expect(cache.has(file)).toBe(true);
    const second = served(cache.get(file));
    expect(second).toBe(first); // the same object, the same Buffer
    expect(fs.opens).toBe(1);
    expect(fs.closes).toBe(1);
  });

  it('does not keep a file changed within RACY_MS (a write in the same clock tick would keep its stamp)', () => {
    const fs = countingFs();
    const file = write('a.txt', 'hello');
    const cache = new FileCache({ fs }); // the real clock: the file was written just now
    expect(served(cache.get(file)).body.toString()).toBe('hello');
    expect(cache.has(file)).toBe(false);
    expect(served(cache.get(file)).body.toString()).toBe('hello');
    expect(fs.opens).toBe(2);
    expect(cache.size).toEqual({ entries: 0, bytes: 0 });
  });

  it('judges raciness by ctime too: an old mtime set by utimes (tar, cp -p) does not make a fresh file settled', () => {
    const file = write('a.txt', 'hello');
    setMtime(file, 1_000_000_000); // 2001
    const cache = new FileCache(); // real clock; ctime is now
    served(cache.get(file));
    expect(cache.has(file)).toBe(false);
  });

  it('keeps the file once RACY_MS have passed since its last change', () => {
    const file = write('a.txt', 'hello');
    const changed = Number(statSync(file, { bigint: true }).ctimeNs / 1_000_000n);
    let now = changed + RACY_MS; // not more than RACY_MS: still racy
    const cache = new FileCache({ now: () => now });
    served(cache.get(file));
    expect(cache.has(file)).toBe(false);
    now = changed + RACY_MS + 2;
    served(cache.get(file));
    expect(cache.has(file)).toBe(true);
  });

  it('never keeps a file whose mtime is in the future', () => {
    const file = write('a.txt', 'hello');
    setMtime(file, Date.now() / 1000 + 3600);
    const cache = new FileCache({ now: () => Date.now() + 10_000 });
    served(cache.get(file));
    expect(cache.has(file)).toBe(false);
  });

  it('sees an edit in place at the next request (size changed)', () => {
    const file = write('a.txt', 'one');
    const cache = new FileCache({ now: later });
    expect(served(cache.get(file)).body.toString()).toBe('one');
    writeFileSync(file, 'three');
    expect(served(cache.get(file)).body.toString()).toBe('three');
  });

  it('sees an edit in place of the same size with mtime put back (ctime differs)', async () => {
    const file = write('a.txt', 'aaaa');
    setMtime(file, 1_600_000_000.5);
    const cache = new FileCache({ now: later });
    expect(served(cache.get(file)).body.toString()).toBe('aaaa');
    await new Promise((r) => setTimeout(r, 20)); // a new clock tick for ctime
    writeFileSync(file, 'bbbb');
    setMtime(file, 1_600_000_000.5);
    const got = served(cache.get(file));
    expect(got.body.toString()).toBe('bbbb');
    expect(got.etag).toBe(etagOf(4, 1_600_000_000_500));
  });

  it('sees an atomic save (write a new file, rename over): a new inode', () => {
    const file = write('a.txt', 'old!');
    const cache = new FileCache({ now: later });
    served(cache.get(file));
    const tmp = write('a.txt.tmp', 'new!'); // same size
    renameSync(tmp, file);
    expect(served(cache.get(file)).body.toString()).toBe('new!');
  });

  it('forgets a deleted file: missing, and the entry is dropped', () => {
    const file = write('a.txt', 'hello');
    const cache = new FileCache({ now: later });
    served(cache.get(file));
    unlinkSync(file);
    expect(cache.get(file)).toEqual({ skip: 'missing' });
    expect(cache.has(file)).toBe(false);
    expect(cache.size).toEqual({ entries: 0, bytes: 0 });
  });

  it('a path below a file (ENOTDIR) or a name never created is missing', () => {
    const file = write('a.txt', 'hello');
    const cache = new FileCache({ now: later });
    expect(cache.get(join(file, 'x'))).toEqual({ skip: 'missing' });
    expect(cache.get(join(dir, 'nope'))).toEqual({ skip: 'missing' });
  });

  it('does not follow a symlink put where the file was: not-file, entry dropped', () => {
    const file = write('a.txt', 'hello');
    const other = write('secret.txt', 'SECRET');
    const cache = new FileCache({ now: later });
    served(cache.get(file));
    unlinkSync(file);
    symlinkSync(other, file);
    expect(cache.get(file)).toEqual({ skip: 'not-file' });
    expect(cache.has(file)).toBe(false);
  });

  it('a folder or a FIFO is not-file, and is never opened', () => {
    const fs = countingFs();
    mkdirSync(join(dir, 'sub'));
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    const cache = new FileCache({ now: later, fs });
    expect(cache.get(join(dir, 'sub'))).toEqual({ skip: 'not-file' });
    expect(cache.get(join(dir, 'fifo'))).toEqual({ skip: 'not-file' });
    expect(fs.opens).toBe(0);
  });

  it('keys by the path it is given: two links to one file are the same entry only through their real path', () => {
    const a = write('a.txt', 'A');
    const b = write('b.txt', 'B');
    const cache = new FileCache({ now: later });
    expect(served(cache.get(a)).body.toString()).toBe('A');
    expect(served(cache.get(b)).body.toString()).toBe('B');
    expect(cache.size.entries).toBe(2);
  });
});

describe('FileCache: size limits', () => {
  it('skips a file over maxFileBytes without opening it', () => {
    const fs = countingFs();
    const file = write('big.bin', Buffer.alloc(1025));
    const cache = new FileCache({ now: later, maxFileBytes: 1024, fs });
    expect(cache.get(file)).toEqual({ skip: 'too-big' });
    expect(fs.opens).toBe(0);
  });

  it('drops the entry of a file that grew past maxFileBytes', () => {
    const file = write('a.bin', Buffer.alloc(1000));
    const cache = new FileCache({ now: later, maxFileBytes: 1024 });
    served(cache.get(file));
    expect(cache.has(file)).toBe(true);
    writeFileSync(file, Buffer.alloc(2000));
    expect(cache.get(file)).toEqual({ skip: 'too-big' });
    expect(cache.size).toEqual({ entries: 0, bytes: 0 });
  });

  it('charges each entry its size, its key and ENTRY_OVERHEAD', () => {
    const file = write('a.txt', Buffer.alloc(100));
    const cache = new FileCache({ now: later });
    served(cache.get(file));
    expect(cache.size).toEqual({ entries: 1, bytes: 100 + 2 * file.length + ENTRY_OVERHEAD });
  });

  it('drops the least recently used entries to stay within maxTotalBytes; a hit counts as a use', () => {
    const files = ['a', 'b', 'c', 'd'].map((n) => write(n, Buffer.alloc(1000)));
    const cost = 1000 + 2 * files[0].length + ENTRY_OVERHEAD;
    let clock = later();
    const cache = new FileCache({ now: () => clock, maxTotalBytes: 3 * cost });
    for (const f of files.slice(0, 3)) served(cache.get(f));
    clock += 1000;
    served(cache.get(files[0])); // a is now the most recent: b is the oldest
    served(cache.get(files[3]));
    expect(files.map((f) => cache.has(f))).toEqual([true, false, true, true]);
    expect(cache.size).toEqual({ entries: 3, bytes: 3 * cost });
  });

  it('counts a hit as a use only once a second per entry (the order is right to within a second)', () => {
    const files = ['a', 'b', 'c', 'd'].map((n) => write(n, Buffer.alloc(1000)));
    const cost = 1000 + 2 * files[0].length + ENTRY_OVERHEAD;
    let clock = later();
    const cache = new FileCache({ now: () => clock, maxTotalBytes: 3 * cost });
    for (const f of files.slice(0, 3)) served(cache.get(f));
    clock += 999;
    served(cache.get(files[0])); // within the second: a stays the oldest
    served(cache.get(files[3]));
    expect(files.map((f) => cache.has(f))).toEqual([false, true, true, true]);
  });

  it('drops as many as it takes for a larger entry', () => {
    const small = ['a', 'b', 'c'].map((n) => write(n, Buffer.alloc(100)));
    const big = write('z', Buffer.alloc(2000));
    const smallCost = 100 + 2 * small[0].length + ENTRY_OVERHEAD;
    const bigCost = 2000 + 2 * big.length + ENTRY_OVERHEAD;
    const cache = new FileCache({ now: later, maxTotalBytes: bigCost + smallCost });
    for (const f of small) served(cache.get(f));
    expect(cache.size.entries).toBe(3);
    served(cache.get(big));
    expect([...small, big].map((f) => cache.has(f))).toEqual([false, false, true, true]);
    expect(cache.size.bytes).toBe(bigCost + smallCost);
  });

  it('serves but does not keep a file whose entry alone would exceed maxTotalBytes (and keeps what it had)', () => {
    const a = write('a', Buffer.alloc(10));
    const big = write('big', Buffer.alloc(5000));
    const cache = new FileCache({ now: later, maxTotalBytes: 2000 });
    served(cache.get(a));
    expect(served(cache.get(big)).body.length).toBe(5000);
    expect(cache.has(big)).toBe(false);
    expect(cache.has(a)).toBe(true);
  });

  it("a kept body owns its memory (not a slice of Buffer's shared 8 KiB pool)", () => {
    const file = write('a.txt', 'tiny');
    const got = served(new FileCache({ now: later }).get(file));
    expect(got.body.buffer.byteLength).toBeLessThanOrEqual(5);
  });
});

// ---------------------------------------------------------------- scripted file system

interface FakeFile {
  content: Buffer;
  ino: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  kind?: 'file' | 'dir';
}

/** BigIntStats enough for the cache: the five stamp fields and isFile(). */
function fakeStats(f: FakeFile): BigIntStats {
  return {
    dev: 1n,
    ino: f.ino,
    size: BigInt(f.content.length),
    mtimeNs: f.mtimeNs,
    ctimeNs: f.ctimeNs,
    isFile: () => (f.kind ?? 'file') === 'file',
  } as unknown as BigIntStats;
}

/**
 * One file at /f whose state scripted hooks change between calls. Old times
 * (2001), so anything read consistently is kept under the real clock.
 */
function scriptedFs(initial: string) {
  const file: FakeFile = {
    content: Buffer.from(initial),
    ino: 1n,
    mtimeNs: 1_000_000_000_000_000_000n,
    ctimeNs: 1_000_000_000_000_000_000n,
  };
  const fs = {
    file,
    opens: 0,
    closes: 0,
    reads: 0,
    /** Called after each read() with its number (1-based): change the file here. */
    afterRead: (_n: number) => {},
    /** At most this many bytes per read() (short reads). */
    chunk: Infinity,
    lstatError: null as NodeJS.ErrnoException | null,
    openError: null as NodeJS.ErrnoException | null,
    readError: null as Error | null,
    closeError: null as Error | null,
    lstat(_p: string) {
      if (fs.lstatError) throw fs.lstatError;
      return fakeStats(file);
    },
    open(_p: string) {
      if (fs.openError) throw fs.openError;
      fs.opens++;
      return 7;
    },
    fstat: (_fd: number) => fakeStats(file),
    read(_fd: number, buffer: Buffer, offset: number, length: number, position: number) {
      if (fs.readError) throw fs.readError;
      const n = file.content.copy(
        buffer,
        offset,
        position,
        Math.min(file.content.length, position + Math.min(length, fs.chunk)),
      );
      fs.afterRead(++fs.reads);
      return n;
    },
    close(_fd: number) {
      fs.closes++;
      if (fs.closeError) throw fs.closeError;
    },
  };
  return fs;
}

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(code), { code });
}

/** A write: new bytes, later stamp. */
function touch(f: FakeFile, content: string): void {
  f.content = Buffer.from(content);
  f.mtimeNs += 1_000_000n;
  f.ctimeNs += 1_000_000n;
}

describe('FileCache: a file that changes while it is read', () => {
  it('assembles short reads', () => {
    const fs = scriptedFs('abcdefghij');
    fs.chunk = 3;
    expect(served(new FileCache({ fs }).get('/f')).body.toString()).toBe('abcdefghij');
  });

  it('reads again when the stamp changed during the read, and keeps the consistent second read', () => {
    const fs = scriptedFs('first');
    fs.afterRead = (n) => {
      if (n === 1) touch(fs.file, 'other');
    };
    const cache = new FileCache({ fs });
    expect(served(cache.get('/f')).body.toString()).toBe('other');
    expect(fs.opens).toBe(2);
    expect(cache.has('/f')).toBe(true);
    expect(served(cache.get('/f')).body.toString()).toBe('other');
    expect(fs.opens).toBe(2);
  });

  /** fstat as the scripted file is, except that the first open's fstat calls keep reporting `size`. */
  function staleSizeOnFirstOpen(fs: ReturnType<typeof scriptedFs>, size: number): void {
    fs.fstat = () => {
      const st = fakeStats(fs.file);
      return fs.opens === 1 ? ({ ...st, size: BigInt(size), isFile: () => true } as unknown as BigIntStats) : st;
    };
  }

  it('reads again when the file grew during the read (more bytes than its size, same stamp)', () => {
    const fs = scriptedFs('12345');
    staleSizeOnFirstOpen(fs, 5);
    fs.chunk = 2;
    fs.afterRead = (n) => {
      if (n === 1) fs.file.content = Buffer.from('123456789');
    };
    const cache = new FileCache({ fs });
    expect(served(cache.get('/f')).body.toString()).toBe('123456789');
    expect(fs.opens).toBe(2);
  });

  it('reads again when the file shrank during the read (fewer bytes than its size, same stamp)', () => {
    const fs = scriptedFs('123456789');
    staleSizeOnFirstOpen(fs, 9);
    fs.chunk = 2;
    fs.afterRead = (n) => {
      if (n === 1) fs.file.content = Buffer.from('123');
    };
    const cache = new FileCache({ fs });
    expect(served(cache.get('/f')).body.toString()).toBe('123');
    expect(fs.opens).toBe(2);
  });

  it(`gives up after ${MAX_READS} reads of a file that never holds still: changing, nothing kept, every fd closed`, () => {
    const fs = scriptedFs('x');
    fs.afterRead = (n) => touch(fs.file, `x${n}`);
    const cache = new FileCache({ fs });
    expect(cache.get('/f')).toEqual({ skip: 'changing' });
    expect(fs.opens).toBe(MAX_READS);
    expect(fs.closes).toBe(MAX_READS);
    expect(cache.has('/f')).toBe(false);
  });

  it('a file replaced by a folder between lstat and open is not-file', () => {
    const fs = scriptedFs('x');
    fs.fstat = () => fakeStats({ ...fs.file, kind: 'dir' });
    expect(new FileCache({ fs }).get('/f')).toEqual({ skip: 'not-file' });
    expect(fs.closes).toBe(1);
  });

  it('a file that grew past maxFileBytes between lstat and open is too-big, and is not read', () => {
    const fs = scriptedFs('x');
    fs.fstat = () => fakeStats({ ...fs.file, content: Buffer.alloc(2000) });
    expect(new FileCache({ fs, maxFileBytes: 1000 }).get('/f')).toEqual({ skip: 'too-big' });
    expect(fs.reads).toBe(0);
    expect(fs.closes).toBe(1);
  });
});

describe('FileCache: errors', () => {
  it('an lstat error is missing', () => {
    const fs = scriptedFs('x');
    fs.lstatError = errno('EACCES');
    expect(new FileCache({ fs }).get('/f')).toEqual({ skip: 'missing' });
  });

  it.each([
    ['ENOENT', 'missing'],
    ['ENOTDIR', 'missing'],
    ['ELOOP', 'not-file'], // O_NOFOLLOW met a symlink put there after the lstat
    ['EACCES', 'error'],
    ['EMFILE', 'error'],
  ])('open failing with %s is %s', (code, skip) => {
    const fs = scriptedFs('x');
    fs.openError = errno(code);
    expect(new FileCache({ fs }).get('/f')).toEqual({ skip });
  });

  it('a read error is error, and the fd is closed', () => {
    const fs = scriptedFs('x');
    fs.readError = errno('EIO');
    const cache = new FileCache({ fs });
    expect(cache.get('/f')).toEqual({ skip: 'error' });
    expect(fs.closes).toBe(1);
    expect(cache.has('/f')).toBe(false);
  });

  it('a close error does not matter', () => {
    const fs = scriptedFs('x');
    fs.closeError = errno('EIO');
    expect(served(new FileCache({ fs }).get('/f')).body.toString()).toBe('x');
  });

  it('an unreadable real file is error (the caller streams it and reports what happens)', () => {
    if (process.getuid?.() === 0) return; // root reads anything
    const file = write('locked.txt', 'x');
    chmodSync(file, 0);
    expect(new FileCache({ now: later }).get(file)).toEqual({ skip: 'error' });
  });

  it('the real open does not follow a symlink, nor block on a FIFO', () => {
    const target = write('t.txt', 'x');
    const link = join(dir, 'link');
    symlinkSync(target, link);
    expect(() => NODE_FS.open(link)).toThrow(expect.objectContaining({ code: 'ELOOP' }));
    const fd = NODE_FS.open(target);
    expect(fstatSync(fd).isFile()).toBe(true);
    NODE_FS.close(fd);
    // A FIFO swapped in after the lstat: open returns at once (O_NONBLOCK), and fstat tells.
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    const fifo = NODE_FS.open(join(dir, 'fifo'));
    expect(fstatSync(fifo).isFIFO()).toBe(true);
    NODE_FS.close(fifo);
  });
});

describe('msOf and versionOf: the same numbers as fs.Stats', () => {
  // Written as the nanosecond mtimes a file system keeps; a double rounds the longest ones, as it does in fs.Stats.
  const mtimes = ['0', '1', '0.5', '1600000000', '1600000000.123456789', '1700000000.9995', '1700000000.999999'];
  it.each([...mtimes, '1763760000.999999999', '4102444800.25'].map(Number))('mtime %d s', (seconds) => {
    const file = write('t', 'abc');
    setMtime(file, seconds);
    const st = statSync(file);
    const big = statSync(file, { bigint: true });
    expect(msOf(big.mtimeNs)).toBe(st.mtimeMs);
    const v = versionOf(
      { dev: big.dev, ino: big.ino, size: big.size, mtimeNs: big.mtimeNs, ctimeNs: big.ctimeNs },
      readFileSync(file),
    );
    expect(v.lastModified).toBe(st.mtime.toUTCString());
    expect(v.etag).toBe(etagOf(st.size, st.mtimeMs));
  });

  it('handles times before 1970 as Node does (whole seconds down, nanoseconds up)', () => {
    expect(msOf(-1n)).toBe(-1000 + 999999999 / 1e6);
    expect(msOf(-1_500_000_000n)).toBe(-2000 + 500);
    expect(msOf(-2_000_000_000n)).toBe(-2000);
  });

  it('etagOf is hex size and whole hex milliseconds, strong', () => {
    expect(etagOf(1007, 1_763_760_000_123.9)).toBe(`"3ef-${(1_763_760_000_123).toString(16)}"`);
    expect(etagOf(0, 0)).toBe('"0-0"');
  });
});
