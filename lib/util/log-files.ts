// Log files: each site's access-log and error-log (lib/site/build.ts expands
// their {site} and {user}). A path is opened once for appending, however
// many sites write to it, and written through a LogStream (./log.ts):
// bounded and never blocking the event loop (writes go through libuv's
// thread pool). reopen() (SIGUSR1) ends each file's stream once what it holds is written and
// opens the path again, so after logrotate renames a file, the lines
// already logged land in the renamed file and the next ones in the new one.
// A file that cannot be written (its folder is gone, no permission) says so
// once in the server's own error log, which then takes its lines.
import { createWriteStream } from 'node:fs';
import { LogStream, stamped, type Logger } from './log.js';

/** Where a site's lines go: a file path, or "-" for the server's own streams. */
export interface LogTargets {
  readonly access: string;
  readonly error: string;
}

export class LogFiles {
  private readonly files = new Map<string, LogStream>();

  /** `base`: the server's own logger (stdout and stderr), for "-" and for files that fail. */
  constructor(private readonly base: Logger) {}

  /** A Logger writing access lines to `targets.access` and error and info lines to `targets.error`. */
  loggerFor(targets: LogTargets): Logger {
    const { base } = this;
    const line = (file: string, text: string, fallback: (text: string) => void) => {
      const stream = file === '-' ? null : this.open(file);
      if (stream?.alive) stream.write(text);
      else fallback(text);
    };
    return {
      access: (text) => line(targets.access, `${text}\n`, () => base.access(text)),
      error: (message) => line(targets.error, stamped('error', message), () => base.error(message)),
      info: (message) => line(targets.error, stamped('info', message), () => base.info(message)),
      // A page's output goes to its site's error log file, labelled by stream; to the terminal as the base logger labels it.
      output: (stream, message) =>
        line(targets.error, stamped(stream, message), () =>
          base.output ? base.output(stream, message) : base.error(`[${stream}] ${message}`),
        ),
    };
  }

  /** SIGUSR1: every open file is finished and opened again at its path. */
  reopen(): void {
    const paths = [...this.files.keys()];
    for (const stream of this.files.values()) stream.end();
    this.files.clear();
    for (const file of paths) this.open(file);
  }

  /** Ends the files no longer named by `keep` (after a reload). */
  retain(keep: readonly LogTargets[]): void {
    const named = new Set(keep.flatMap((t) => [t.access, t.error]));
    for (const [file, stream] of this.files) {
      if (named.has(file)) continue;
      stream.end();
      this.files.delete(file);
    }
  }

  private open(file: string): LogStream {
    let stream = this.files.get(file);
    if (stream) return stream;
    const out = createWriteStream(file, { flags: 'a' });
    stream = new LogStream(out, file);
    stream.onDeath = (why) => this.base.error(`log file ${file} cannot be written (${why}); its lines go here`);
    this.files.set(file, stream);
    return stream;
  }
}
