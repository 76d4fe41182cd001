// The terminal in development mode: one short line per request (the time,
// the status, coloured on a terminal, the method and URL, how long it took)
// and every line starting with the same clock time. Colour only on a TTY,
// and never with NO_COLOR (no-color.org).

/** True when `stream` is a terminal and NO_COLOR is not set. */
export function colourFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !env.NO_COLOR;
}

/** The local clock time, HH:MM:SS: the one timestamp style of the development terminal. */
export function clockTime(d: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

const COLOURS: Record<number, string> = { 2: '32', 3: '36', 4: '33', 5: '31' }; // green, cyan, yellow, red

export interface DevRequestFacts {
  time: Date;
  status: number;
  method: string;
  url: string;
  ms: number;
  requestId: string;
}

/** "14:02:03 200 GET /hello.py 12 ms": control characters in the URL escaped, so a request cannot forge a line. */
export function devAccessLine(f: DevRequestFacts, colour: boolean): string {
  const code = COLOURS[Math.floor(f.status / 100)];
  const status = colour && code ? `\x1b[${code}m${f.status}\x1b[0m` : String(f.status);
  const id = f.status >= 500 ? ` (request ${f.requestId})` : '';
  return `${clockTime(f.time)} ${status} ${printable(f.method)} ${printable(f.url)} ${Math.round(f.ms)} ms${id}`;
}

/** Control characters as \xHH. */
export function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
