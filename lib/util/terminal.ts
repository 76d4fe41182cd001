// Log streams on a terminal. On Linux Node writes to a terminal
// synchronously: one that stops reading (Ctrl-S, a stuck ssh session, a pty
// whose reader hangs) would stop the event loop at the next line, and with
// it every request. Made non-blocking, a terminal's writes queue like a
// pipe's, so the bound and the dropped-line count of lib/util/log.ts apply.

import { existsSync, readlinkSync, writeSync } from 'node:fs';

interface TerminalStream {
  isTTY?: boolean;
  fd?: number;
  _handle?: { setBlocking?(blocking: boolean): number };
}

/**
 * Makes a terminal stream's writes non-blocking; true if it did. Only where
 * libuv gave this process its own open file of the terminal (it reopens a
 * pty by name when it can), so another process sharing the terminal (the
 * supervisor, a shell) keeps its blocking writes; where it could not (no
 * name to reopen by), libuv would retry a full terminal in a busy loop, and
 * the stream is left blocking. Not a terminal: nothing to do.
 */
export function nonBlockingTerminal(stream: object): boolean {
  const tty = stream as TerminalStream;
  if (!tty.isTTY || tty.fd === undefined || !ownTerminalFile(tty.fd)) return false;
  return tty._handle?.setBlocking?.(false) === 0;
}

/** True when the fd names a terminal device that exists here and is not a pty's master side. */
function ownTerminalFile(fd: number): boolean {
  try {
    const path = readlinkSync(`/proc/self/fd/${fd}`);
    return path.startsWith('/dev/') && !path.endsWith('ptmx') && existsSync(path);
  } catch {
    return false;
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `bytes` to `fd` now (the event loop has stopped: at exit). A
 * non-blocking terminal or pipe that is full (EAGAIN) is waited on until
 * `deadline` (ms since the epoch), then given up. Throws what writeSync
 * throws otherwise (EPIPE: the reader is gone).
 */
export function writeAllSync(fd: number, bytes: Uint8Array, deadline: number): void {
  let at = 0;
  while (at < bytes.length) {
    try {
      at += writeSync(fd, bytes, at);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN' || Date.now() > deadline) throw e;
      Atomics.wait(pause, 0, 0, 10);
    }
  }
}
