// The request shapes of the abort sweep, and where each one is cut: every
// byte of the head, every framing byte of a chunked body, and steps through
// the data.

export interface Shape {
  name: string;
  /** The whole request for a page path. */
  bytes(path: string): Buffer;
  /** Length of the head (request line and fields, blank line included) for that path. */
  headLength(path: string): number;
  /**
   * Offsets inside the body (0 = first body byte) where it is also cut; the
   * body's length is a cut point too. `coarse` leaves out the framing bytes
   * of the middle chunks: for a cold page, where every cut costs a worker start.
   */
  bodyPoints(coarse?: boolean): number[];
  /** The length the page must report for the whole body. */
  bodyLength: number;
}

const SMALL = 3000;
const LARGE = 1 << 20;

function head(path: string, fields: string): string {
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: abort-sweep\r\n${fields}\r\n`;
}

/** n bytes that are not all alike, so a shifted body cannot pass for the right one. */
function data(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = 97 + (i % 26);
  return b;
}

/** `count` chunks of `size` bytes, then the last chunk; and the offsets of every framing byte in it. */
function chunked(count: number, size: number): { body: Buffer; framing: number[]; dataStarts: number[] } {
  const parts: Buffer[] = [];
  const framing: number[] = [];
  const dataStarts: number[] = [];
  let at = 0;
  const frame = (text: string) => {
    for (let i = 0; i < text.length; i++) framing.push(at + i);
    parts.push(Buffer.from(text, 'latin1'));
    at += text.length;
  };
  for (let c = 0; c < count; c++) {
    frame(`${size.toString(16)}\r\n`);
    dataStarts.push(at);
    parts.push(data(size));
    at += size;
    frame('\r\n');
  }
  frame('0\r\n\r\n');
  return { body: Buffer.concat(parts), framing, dataStarts };
}

function shape(name: string, fields: string, body: Buffer, bodyLength: number, fine: number[], coarse = fine): Shape {
  return {
    name,
    bytes: (path) => Buffer.concat([Buffer.from(head(path, fields), 'latin1'), body]),
    headLength: (path) => Buffer.byteLength(head(path, fields), 'latin1'),
    bodyPoints: (isCoarse = false) =>
      [...new Set(isCoarse ? coarse : fine)].filter((p) => p > 0 && p < body.length).sort((a, b) => a - b),
    bodyLength,
  };
}

/** The framing bytes of a chunked body's first chunk and of its end, plus `extra`. */
function edges(c: { body: Buffer; framing: number[]; dataStarts: number[] }, extra: number[]): number[] {
  return [...c.framing.filter((f) => f < c.dataStarts[0] || f >= c.body.length - 7), ...extra];
}

function steps(length: number, step: number): number[] {
  const out = [1, length - 1];
  for (let p = step; p < length; p += step) out.push(p);
  return out;
}

const small = data(SMALL);
const large = data(LARGE);
const fewChunks = chunked(3, 1000);
const manyChunks = chunked(16, 65536);

export const SHAPES: Shape[] = [
  {
    ...shape('get', '', Buffer.alloc(0), 0, []),
    bytes: (path) =>
      Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: abort-sweep\r\n\r\n`, 'latin1'),
    headLength: (path) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: abort-sweep\r\n\r\n`.length,
  },
  shape(
    'post-content-length',
    `Content-Type: application/octet-stream\r\nContent-Length: ${SMALL}\r\n`,
    small,
    SMALL,
    steps(SMALL, 500),
  ),
  shape(
    'post-chunked',
    'Transfer-Encoding: chunked\r\n',
    fewChunks.body,
    3000,
    [...fewChunks.framing, ...fewChunks.dataStarts.flatMap((s) => [s + 1, s + 500, s + 999])],
    edges(
      fewChunks,
      fewChunks.dataStarts.flatMap((s) => [s + 500]),
    ),
  ),
  shape('expect-100-continue', `Expect: 100-continue\r\nContent-Length: ${SMALL}\r\n`, small, SMALL, steps(SMALL, 500)),
  shape(
    'large-content-length',
    `Content-Length: ${LARGE}\r\n`,
    large,
    LARGE,
    steps(LARGE, 128 * 1024),
    steps(LARGE, 256 * 1024),
  ),
  // Framing bytes of the first chunk and the end; around every fourth chunk's start.
  shape(
    'large-chunked',
    'Transfer-Encoding: chunked\r\n',
    manyChunks.body,
    LARGE,
    edges(
      manyChunks,
      manyChunks.dataStarts.filter((_, i) => i % 4 === 0).flatMap((s) => [s - 1, s, s + 1, s + 32768]),
    ),
    edges(manyChunks, [manyChunks.dataStarts[8]]),
  ),
];

/** Every cut point of a shape for a path: 0 .. head length (byte by byte), then the body points, then the whole request. */
export function cutPoints(s: Shape, path: string, coarse = false): number[] {
  const headLength = s.headLength(path);
  const points: number[] = [];
  for (let n = 0; n <= headLength; n++) points.push(n);
  for (const p of s.bodyPoints(coarse)) points.push(headLength + p);
  const total = s.bytes(path).length;
  if (total > headLength) points.push(total);
  return points;
}
