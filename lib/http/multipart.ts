// multipart/byteranges (RFC 9110 14.6): the body of a 206 for several
// ranges, each part with its own Content-Type and Content-Range. Its length
// is known before the first byte, so it is sent with Content-Length.

import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { contentRange, type Span } from './ranges.js';

/** A multipart body laid out: its Content-Type (with the boundary), its length, and its pieces in order. */
export interface MultipartPlan {
  contentType: string;
  length: number;
  /** Part headers and delimiters as bytes, the parts' data as spans of the representation. */
  pieces: (Buffer | Span)[];
}

/** Lays out the parts for `spans` of a representation of `size` bytes of type `type`. */
export function planMultipart(spans: readonly Span[], size: number, type: string): MultipartPlan {
  const boundary = randomBytes(12).toString('hex');
  const pieces: (Buffer | Span)[] = [];
  let length = 0;
  const add = (piece: Buffer | Span) => {
    pieces.push(piece);
    length += Buffer.isBuffer(piece) ? piece.length : piece.end - piece.start + 1;
  };
  for (const span of spans) {
    add(
      Buffer.from(`\r\n--${boundary}\r\nContent-Type: ${type}\r\nContent-Range: ${contentRange(span, size)}\r\n\r\n`),
    );
    add(span);
  }
  add(Buffer.from(`\r\n--${boundary}--\r\n`));
  return { contentType: `multipart/byteranges; boundary=${boundary}`, length, pieces };
}

/** The whole multipart body from a representation held in memory. */
export function multipartFromBuffer(plan: MultipartPlan, body: Buffer): Buffer {
  return Buffer.concat(plan.pieces.map((p) => (Buffer.isBuffer(p) ? p : body.subarray(p.start, p.end + 1))));
}

/** The multipart body as a stream, each span's bytes read by `read` (e.g. a file read stream from start to end). */
export function multipartStream(plan: MultipartPlan, read: (span: Span) => AsyncIterable<Buffer>): Readable {
  return Readable.from(pieces(plan, read), { objectMode: false });
}

async function* pieces(plan: MultipartPlan, read: (span: Span) => AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  for (const piece of plan.pieces) {
    if (Buffer.isBuffer(piece)) yield piece;
    else yield* read(piece);
  }
}
