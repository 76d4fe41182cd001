// The frame format shared with lib/python/pypages_worker/protocol.py.
// The spec is lib/worker/protocol.md; both sides are tested against
// test/fixtures/protocol-vectors.json.

export const HEADER_SIZE = 9;
export const MAX_PAYLOAD = 16 * 1024 * 1024;
export const PROTOCOL_VERSION = 2;
/** Request-body bytes Node may send before the worker asks (the worker buffers them); protocol.py's BODY_WINDOW. */
export const BODY_WINDOW = 256 * 1024;

/** Frame types sent by Node. */
export const ToWorker = {
  REQUEST: 0x01,
  BODY: 0x02,
  CREDIT: 0x03,
  ABORT: 0x04,
  PING: 0x05,
  FILE_OPENED: 0x06,
} as const;

/** Frame types sent by the Python worker. */
export const FromWorker = {
  READY: 0x81,
  START: 0x82,
  BODY: 0x83,
  END: 0x84,
  ERROR: 0x85,
  READ: 0x86,
  FILE: 0x87,
  WATCH: 0x88,
  PONG: 0x89,
} as const;

export interface Frame {
  type: number;
  id: number;
  payload: Buffer;
  /** The payload as it arrived, in one or more pieces: a body can be passed on without joining them. */
  readonly parts: readonly Buffer[];
}

/** A frame whose payload pieces are joined only if someone asks for the whole payload. */
class DecodedFrame implements Frame {
  private joined: Buffer | null = null;

  constructor(
    readonly type: number,
    readonly id: number,
    readonly parts: readonly Buffer[],
  ) {}

  get payload(): Buffer {
    if (this.joined === null)
      this.joined = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts as Buffer[]);
    return this.joined;
  }
}

/**
 * Encodes one frame: 9-byte header (type, id, length) then the payload.
 * With `length` (and an empty payload), only the header of a frame whose
 * payload of that length the caller writes next.
 */
export function encodeFrame(type: number, id: number, payload: Buffer = EMPTY, length = payload.length): Buffer {
  if (length > MAX_PAYLOAD) throw new RangeError(`frame payload of ${length} bytes exceeds ${MAX_PAYLOAD}`);
  const frame = Buffer.allocUnsafe(HEADER_SIZE + payload.length);
  frame.writeUInt8(type, 0);
  frame.writeUInt32BE(id >>> 0, 1);
  frame.writeUInt32BE(length, 5);
  payload.copy(frame, HEADER_SIZE);
  return frame;
}

export const EMPTY = Buffer.alloc(0);

export function jsonPayload(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

export function uint32Payload(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

export function readUint32(payload: Buffer): number {
  if (payload.length !== 4) throw new ProtocolError(`expected a 4-byte payload, got ${payload.length} bytes`);
  return payload.readUInt32BE(0);
}

export function parseJson<T>(payload: Buffer): T {
  try {
    return JSON.parse(payload.toString('utf8')) as T;
  } catch (err) {
    throw new ProtocolError(`bad JSON payload: ${(err as Error).message}`);
  }
}

export class ProtocolError extends Error {}

/**
 * Reassembles frames from a byte stream. Owns no I/O: feed it chunks in
 * order; it returns every complete frame and keeps the remainder. A frame
 * split across chunks keeps its pieces (`parts`) and is joined only if its
 * `payload` is read, so a large frame arriving in many reads costs linear
 * time, and a body passed on piece by piece is never copied here.
 * Throws ProtocolError on an oversize length (the stream is then unusable).
 */
export class FrameDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  push(chunk: Buffer): Frame[] {
    if (chunk.length) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
    }
    const frames: Frame[] = [];
    while (this.pendingBytes >= HEADER_SIZE) {
      const header = this.peek(HEADER_SIZE);
      const length = header.readUInt32BE(5);
      if (length > MAX_PAYLOAD) throw new ProtocolError(`frame length ${length} exceeds ${MAX_PAYLOAD}`);
      if (this.pendingBytes < HEADER_SIZE + length) break;
      const type = header[0];
      const id = header.readUInt32BE(1);
      this.consume(HEADER_SIZE);
      frames.push(new DecodedFrame(type, id, this.takeParts(length)));
    }
    return frames;
  }

  /** Bytes received that do not yet form a whole frame. */
  get buffered(): number {
    return this.pendingBytes;
  }

  /** The first n pending bytes, without consuming them. */
  private peek(n: number): Buffer {
    return this.pending[0].length >= n ? this.pending[0] : this.copyOut(n);
  }

  /** Removes the first n pending bytes and returns them as they arrived, in one or more pieces, without copying. */
  private takeParts(n: number): Buffer[] {
    const parts: Buffer[] = [];
    this.pendingBytes -= n;
    while (n > 0) {
      const piece = this.pending[0];
      if (piece.length <= n) {
        parts.push(piece);
        n -= piece.length;
        this.pending.shift();
      } else {
        parts.push(piece.subarray(0, n));
        this.pending[0] = piece.subarray(n);
        n = 0;
      }
    }
    return parts;
  }

  private copyOut(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    for (const piece of this.pending) {
      const used = Math.min(piece.length, n - filled);
      piece.copy(out, filled, 0, used);
      filled += used;
      if (filled === n) break;
    }
    return out;
  }

  private consume(n: number): void {
    this.pendingBytes -= n;
    let left = n;
    while (left > 0 && this.pending.length) {
      const piece = this.pending[0];
      if (piece.length <= left) {
        left -= piece.length;
        this.pending.shift();
      } else {
        this.pending[0] = piece.subarray(left);
        left = 0;
      }
    }
  }
}
