// A page's own output (print(), sys.stderr, wsgi.errors) as the terminal
// shows it: labelled by the stream it came from, [out] or [err], so a
// student does not read every print() as an error.

import type { Logger } from './log.js';

/** Logs one line a page wrote on its stdout ('out') or stderr ('err'); a Logger without `output` gets it as an error line. */
export function pageOutput(log: Logger, stream: 'out' | 'err', line: string): void {
  if (log.output) log.output(stream, line);
  else log.error(line);
}
