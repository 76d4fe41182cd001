import { writeSync } from 'node:fs';

// The two logs a web server keeps: access (Apache combined format, stdout)
// and error (stderr). Tests pass their own Logger to read what was logged.

export interface Logger {
  access(line: string): void;
  error(message: string): void;
  info(message: string): void;
}

/** Writes access lines to stdout and timestamped error/info lines to stderr. */
export function consoleLogger(): Logger {
  const access = batchedWriter(process.stdout as NodeJS.WriteStream & { fd: number });
  return {
    access: (line) => access(line + '\n'),
    error: (message) => process.stderr.write(`[${new Date().toISOString()}] [error] ${message}\n`),
    info: (message) => process.stderr.write(`[${new Date().toISOString()}] [info] ${message}\n`),
  };
}

/**
 * Lines written in one turn of the event loop leave in one write: under load
 * that is one system call for many requests instead of one each. At exit,
 * lines not yet handed to the stream are written synchronously (best effort:
 * a pipe whose reader lags may still lose what the stream had queued).
 */
function batchedWriter(stream: NodeJS.WriteStream & { fd: number }): (text: string) => void {
  let pending = '';
  const flush = () => {
    const text = pending;
    pending = '';
    if (text) stream.write(text);
  };
  process.once('exit', () => {
    try {
      if (pending) writeSync(stream.fd, pending); // the loop has stopped: no async write will run
    } catch {
      // stdout already closed: nowhere to write
    }
  });
  return (text) => {
    if (!pending) setImmediate(flush);
    pending += text;
  };
}

/** A Logger that remembers everything, for tests and embedding. */
export function memoryLogger(): Logger & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return {
    lines,
    errors,
    access: (line) => lines.push(line),
    error: (message) => errors.push(message),
    info: () => {},
  };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

let lastSecond = NaN;
let lastTime = '';

/** Apache's %t: [10/Oct/2000:13:55:36 +0000] (always UTC). Formatted once per second: one line per request calls it. */
export function clfTime(d: Date): string {
  const second = Math.floor(d.getTime() / 1000);
  if (second !== lastSecond) [lastSecond, lastTime] = [second, formatClfTime(d)];
  return lastTime;
}

function formatClfTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `[${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000]`;
}

export interface AccessFacts {
  remote: string;
  time: Date;
  requestLine: string;
  status: number;
  bytes: number | null;
  referer: string | undefined;
  userAgent: string | undefined;
}

/** Printable ASCII without quote or backslash: logged as it is, without escaping. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** Quoted with control characters escaped (\\xHH, as Apache writes them): a header cannot forge a line. */
function escaped(s: string): string {
  return JSON.stringify(s).replace(/\\u00([0-9a-f]{2})|\x7f/g, (_, hex: string | undefined) => `\\x${hex ?? '7f'}`);
}

/** One line of Apache's combined log format. */
export function combinedLine(f: AccessFacts): string {
  const quote = (s: string | undefined) => (s === undefined ? '"-"' : PLAIN.test(s) ? `"${s}"` : escaped(s));
  return `${f.remote} - - ${clfTime(f.time)} ${quote(f.requestLine)} ${f.status} ${f.bytes ? f.bytes : '-'} ${quote(f.referer)} ${quote(f.userAgent)}`;
}
