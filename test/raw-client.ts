// A raw HTTP/1.x client for robustness tests: sends bytes exactly as given,
// optionally half-closes or stalls, and reports what came back and when the
// server closed the connection.

import { connect, type Socket } from 'node:net';

export interface RawReply {
  /** The status of the first response, or null if none came. */
  status: number | null;
  /** Everything the server sent. */
  bytes: Buffer;
  /** True when the server closed (FIN or reset) before `waitMs` ran out. */
  closed: boolean;
  /** Milliseconds from the first byte sent to the close (or to giving up). */
  ms: number;
}

export interface RawOptions {
  /** After sending: half-close (FIN), reset (RST), or keep the connection open. */
  then?: 'fin' | 'rst' | 'open';
  /** How long to wait for the server to close; the reply is returned then anyway. */
  waitMs?: number;
  /** Stop reading (as a client that never reads its answer) for this long first. */
  pauseReadingMs?: number;
}

/** Sends `data` on a fresh connection to 127.0.0.1:port and collects the reply. */
export function rawExchange(port: number, data: string | Buffer, opts: RawOptions = {}): Promise<RawReply> {
  const started = Date.now();
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  return new Promise((resolve) => {
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const bytes = Buffer.concat(chunks);
      resolve({ status: statusOf(bytes), bytes, closed, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), opts.waitMs ?? 5000);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('end', () => finish(true));
    if (opts.pauseReadingMs) pauseReading(socket, opts.pauseReadingMs);
    socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data, () => {
      if (opts.then === 'fin') socket.end();
      if (opts.then === 'rst') socket.resetAndDestroy();
    });
  });
}

function pauseReading(socket: Socket, ms: number): void {
  socket.pause();
  setTimeout(() => socket.resume(), ms).unref();
}

function statusOf(bytes: Buffer): number | null {
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(bytes.subarray(0, 16).toString('latin1'));
  return match ? Number(match[1]) : null;
}
