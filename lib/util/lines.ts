// Splitting streams into lines: text lines for output shown in the log,
// byte lines for a channel whose lines must be read exactly.

import type { Readable } from 'node:stream';

/**
 * Calls `onLine` for each line of a text stream (without the newline, and
 * without a trailing "\r"). Linear in the input, and a line longer than
 * `maxLine` characters is cut into pieces of that size: a page printing
 * megabytes without a newline must not make the server buffer or rescan them.
 * With `partialMs`, text that has waited that long for its newline (a
 * prompt) is passed on as a line of its own.
 */
export function onLines(
  stream: Readable | NodeJS.ReadableStream,
  onLine: (line: string) => void,
  maxLine = 16 * 1024,
  partialMs = 0,
): void {
  let rest = '';
  const partial = new Delay(partialMs, () => {
    if (rest) onLine(rest);
    rest = '';
  });
  stream.setEncoding('utf8');
  stream.on('error', () => {}); // a broken pipe from a dying process: its owner learns of the end from 'exit'
  stream.on('data', (text: string) => {
    partial.cancel();
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const line = rest + text.slice(start, nl);
      rest = '';
      start = nl + 1;
      onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
    rest += text.slice(start);
    for (; rest.length > maxLine; rest = rest.slice(maxLine)) onLine(rest.slice(0, maxLine));
    if (rest) partial.start();
  });
  stream.on('end', () => partial.now());
}

/** One pending call of `run` after `ms` (never, for 0), which can be cancelled or made at once. */
class Delay {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly ms: number,
    private readonly run: () => void,
  ) {}

  start(): void {
    if (this.ms > 0) this.timer = setTimeout(() => this.now(), this.ms).unref();
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  now(): void {
    this.cancel();
    this.run();
  }
}

/**
 * Calls `onLine` with each line of a byte stream, as bytes and without its
 * newline: nothing is decoded, so the reader can refuse what is not UTF-8
 * instead of seeing it replaced. A line longer than `maxLine` bytes is one
 * call to `onTooLong`, and is skipped up to its newline: it is never cut into
 * pieces that would each pass for a line.
 */
export function onByteLines(
  stream: Readable | NodeJS.ReadableStream,
  maxLine: number,
  onLine: (line: Buffer) => void,
  onTooLong: (bytes: number) => void,
): void {
  const lines = new ByteLines(maxLine, onLine, onTooLong);
  stream.on('error', () => {}); // a broken pipe from a dying process: its owner learns of the end from 'exit'
  stream.on('data', (chunk: Buffer) => lines.push(chunk));
  stream.on('end', () => lines.end());
}

/** The splitter of onByteLines, fed chunks in order. `onTooLong` gets the bytes the line had when it went over. */
export class ByteLines {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private skipping = false;

  constructor(
    private readonly maxLine: number,
    private readonly onLine: (line: Buffer) => void,
    private readonly onTooLong: (bytes: number) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      if (this.skipping) this.skipping = false;
      else this.line(chunk.subarray(start, nl));
      start = nl + 1;
    }
    if (this.skipping || start === chunk.length) return;
    this.pending.push(chunk.subarray(start));
    this.pendingBytes += chunk.length - start;
    if (this.pendingBytes <= this.maxLine) return;
    this.onTooLong(this.pendingBytes);
    [this.pending, this.pendingBytes, this.skipping] = [[], 0, true];
  }

  /** The stream ended: a last line without its newline still counts. */
  end(): void {
    if (this.pendingBytes > 0) this.line(Buffer.alloc(0));
  }

  private line(tail: Buffer): void {
    const whole = this.pending.length === 0 ? tail : Buffer.concat([...this.pending, tail]);
    [this.pending, this.pendingBytes] = [[], 0];
    if (whole.length > this.maxLine) this.onTooLong(whole.length);
    else this.onLine(whole);
  }
}
