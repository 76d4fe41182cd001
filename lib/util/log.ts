// The two logs a web server keeps: access (stdout; its line's format is
// lib/http/access-log.ts) and error (stderr). Tests pass their own Logger to
// read what was logged.

import { nonBlockingTerminal, writeAllSync } from './terminal.js';
import { clockTime } from './dev-terminal.js';

export interface Logger {
  access(line: string): void;
  error(message: string): void;
  info(message: string): void;
  /** A line a page printed on its stdout ('out') or stderr ('err'); see lib/util/page-output.ts. */
  output?(stream: 'out' | 'err', message: string): void;
}

/**
 * Writes access lines to stdout and timestamped error/info lines to stderr.
 * Neither stream can stop the server: a reader that goes away (EPIPE) ends
 * that stream's lines (error lines then go to stdout, and the other stream
 * says so); a reader that falls behind costs at most LOG_BUFFER_LIMIT bytes,
 * beyond which lines are dropped, counted, and the count logged once it
 * catches up.
 */
export function consoleLogger(options: { dev?: boolean } = {}): Logger {
  const entry = options.dev ? devStamped : stamped;
  const out = new LogStream(process.stdout, 'stdout');
  const err = new LogStream(process.stderr, 'stderr');
  out.onDeath = (why) =>
    err.write(
      entry('error', `the access log's reader on stdout went away (${why}); access lines are no longer written`),
    );
  err.onDeath = (why) =>
    out.write(entry('error', `the error log's reader on stderr went away (${why}); error lines follow on stdout`));
  const errorLine = (text: string) => (err.alive ? err : out).write(text);
  return {
    access: (line) => out.write(`${line}\n`),
    error: (message) => errorLine(entry('error', message)),
    info: (message) => errorLine(entry('info', message)),
    output: (stream, message) => errorLine(entry(stream, message)),
  };
}

/** An error-log line: [ISO time] [level] message, escaped and marked as one entry (logEntry). */
export function stamped(level: string, message: string): string {
  return `[${new Date().toISOString()}] [${level}] ${logEntry(message)}\n`;
}

/** What a terminal or log viewer acts on: C0 but tab and newline, DEL, C1, line and paragraph separators, bidi controls. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is its job
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Starts each line of an entry after its first: no line of a message can pass for an entry of its own. */
export const CONTINUATION = '  | ';

/**
 * A message (which may carry a client's text: a URL in an exception, a
 * page's output) as the text of one log entry: control characters escaped
 * as \xHH or \uHHHH, as the access log does, so nothing can move a
 * terminal's cursor, recolour or clear it; each line after the first (a
 * traceback's) starts with CONTINUATION, so none reads as pypages' own.
 */
export function logEntry(message: string): string {
  const text = message.replace(CONTROL, escapeControl).replace(/\n+$/, '');
  return text.includes('\n') ? text.replaceAll('\n', `\n${CONTINUATION}`) : text;
}

function escapeControl(c: string): string {
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`;
}

/** Development mode: the clock time the request lines start with too (lib/util/dev-terminal.ts). */
function devStamped(level: string, message: string): string {
  return `${clockTime()} [${level}] ${logEntry(message)}\n`;
}

/** Bytes a log stream may hold for a slow reader before lines are dropped. */
export const LOG_BUFFER_LIMIT = 8 * 1024 * 1024;

const BACKLOG_CHUNK = 64 * 1024;
/** How long the last lines may wait at exit for a full (non-blocking) stream. */
const EXIT_WAIT_MS = 1000;

/**
 * One log stream. Lines written in one turn of the event loop leave in one
 * write: under load that is one system call for many requests. While the
 * reader lags, lines wait here as bytes in 64 KiB chunks (kept as strings,
 * or as the stream's small chunks, they cost several times their length) and
 * leave on 'drain'. A terminal is made non-blocking (./terminal.ts), so it
 * lags like a pipe instead of stopping the event loop. At exit, what is left
 * is written synchronously (waiting at most EXIT_WAIT_MS for a full stream).
 */
export class LogStream {
  alive = true;
  onDeath: (why: string) => void = () => {};
  private turn: string[] = [];
  private readonly backlog: Buffer[] = [];
  private backlogUsed = 0; // bytes used in the last backlog chunk
  private held = 0; // bytes in turn and backlog
  private scheduled = false;
  private dropped = 0;
  private ending = false;
  private readonly atExit = () => this.flushAtExit();

  constructor(
    private readonly stream: NodeJS.WritableStream & {
      fd?: number;
      writableNeedDrain: boolean;
      writableLength: number;
    },
    private readonly name: string,
    private readonly limit = LOG_BUFFER_LIMIT,
  ) {
    nonBlockingTerminal(stream); // a terminal that stops reading then costs lines, not the event loop
    stream.on('error', (e: NodeJS.ErrnoException) => this.die(e.code ?? e.message));
    stream.on('drain', () => this.flush());
    process.once('exit', this.atExit);
  }

  /** Writes what it holds, then ends the stream (a log file reopened on SIGUSR1); later lines are dropped. */
  end(): void {
    this.ending = true;
    process.off('exit', this.atExit);
    this.flush();
  }

  write(text: string): void {
    if (!this.alive) return;
    // What we hold plus what the stream holds; UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (this.held + this.stream.writableLength + text.length * 3 > this.limit) return void this.dropped++;
    this.turn.push(text);
    this.held += text.length;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = () => {
    this.scheduled = false;
    if (!this.alive) return;
    if (this.stream.writableNeedDrain) return this.keep(); // 'drain' calls again
    this.noteDrops();
    const out = this.backlog.splice(0).map((b, i, all) => (i === all.length - 1 ? b.subarray(0, this.backlogUsed) : b));
    if (this.turn.length) out.push(Buffer.from(this.turn.join('')));
    [this.turn, this.held, this.backlogUsed] = [[], 0, 0];
    try {
      for (const chunk of out) this.stream.write(chunk);
      if (this.ending) {
        this.alive = false;
        this.stream.end();
      }
    } catch (e) {
      this.die((e as NodeJS.ErrnoException).code ?? String(e)); // a synchronous stream (file, terminal) throws instead
    }
  };

  /** Moves this turn's lines into the byte backlog. */
  private keep(): void {
    for (const text of this.turn) {
      let last = this.backlog[this.backlog.length - 1];
      if (!last || this.backlogUsed + Buffer.byteLength(text) > last.length) {
        this.backlog.push((last = Buffer.allocUnsafeSlow(Math.max(BACKLOG_CHUNK, Buffer.byteLength(text)))));
        this.backlogUsed = 0;
      }
      this.backlogUsed += last.write(text, this.backlogUsed);
    }
    this.turn = [];
  }

  /** Once the reader has caught up: how many lines it missed. */
  private noteDrops(): void {
    if (this.dropped === 0) return;
    this.turn.unshift(
      stamped(
        'error',
        `${this.dropped} log line(s) were dropped from ${this.name}: its reader fell more than ${this.limit / 1024 / 1024} MiB behind`,
      ),
    );
    this.dropped = 0;
  }

  private die(why: string): void {
    if (!this.alive) return;
    this.alive = false;
    [this.turn, this.held] = [[], 0];
    this.backlog.length = 0;
    this.onDeath(why);
  }

  private flushAtExit(): void {
    if (!this.alive || this.stream.fd === undefined) return;
    this.keep();
    const deadline = Date.now() + EXIT_WAIT_MS;
    try {
      // the loop has stopped: write what is left at once
      this.backlog.forEach((b, i, all) => {
        writeAllSync(this.stream.fd!, b.subarray(0, i === all.length - 1 ? this.backlogUsed : b.length), deadline);
      });
    } catch {
      // the reader is gone, or stalled past EXIT_WAIT_MS: nowhere to write
    }
  }
}

/** A Logger that remembers everything, for tests and embedding. */
export function memoryLogger(): Logger & { lines: string[]; errors: string[]; outputs: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  const outputs: string[] = [];
  return {
    lines,
    errors,
    outputs,
    access: (line) => lines.push(line),
    error: (message) => errors.push(message),
    info: () => {},
    // Kept with the errors too, where tests (and wsgiref.validate's reports) have always found them.
    output: (stream, message) => {
      outputs.push(`[${stream}] ${message}`);
      errors.push(message);
    },
  };
}
