import type { Readable } from 'node:stream';

/**
 * Calls `onLine` for each line of a text stream (without the newline, and
 * without a trailing "\r"). Linear in the input, and a line longer than
 * `maxLine` characters is cut into pieces of that size: a page printing
 * megabytes without a newline must not make the server buffer or rescan them.
 */
export function onLines(stream: Readable | NodeJS.ReadableStream, onLine: (line: string) => void, maxLine = 16 * 1024): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('error', () => {}); // a broken pipe from a dying process: its owner learns of the end from 'exit'
  stream.on('data', (text: string) => {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const line = rest + text.slice(start, nl);
      rest = '';
      start = nl + 1;
      onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
    rest += text.slice(start);
    while (rest.length > maxLine) {
      onLine(rest.slice(0, maxLine));
      rest = rest.slice(maxLine);
    }
  });
  stream.on('end', () => rest && onLine(rest));
}
