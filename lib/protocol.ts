// The frame format shared with lib/python/pypages_worker/protocol.py.
// The spec is lib/protocol.md; both sides are tested against
// test/fixtures/protocol-vectors.json.

export const HEADER_SIZE = 9;
export const MAX_PAYLOAD = 16 * 1024 * 1024;
export const PROTOCOL_VERSION = 1;

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
}

/** Encodes one frame: 9-byte header (type, id, length) then the payload. */
export function encodeFrame(type: number, id: number, payload: Buffer = EMPTY): Buffer {
  if (payload.length > MAX_PAYLOAD) throw new RangeError(`frame payload of ${payload.length} bytes exceeds ${MAX_PAYLOAD}`);
  const frame = Buffer.allocUnsafe(HEADER_SIZE + payload.length);
  frame.writeUInt8(type, 0);
  frame.writeUInt32BE(id >>> 0, 1);
  frame.writeUInt32BE(payload.length, 5);
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
 * order; it returns every complete frame and keeps the remainder.
 * Throws ProtocolError on an oversize length (the stream is then unusable).
 */
export class FrameDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  push(chunk: Buffer): Frame[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < HEADER_SIZE) return [];
    let buf = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    const frames: Frame[] = [];
    let offset = 0;
    while (buf.length - offset >= HEADER_SIZE) {
      const length = buf.readUInt32BE(offset + 5);
      if (length > MAX_PAYLOAD) throw new ProtocolError(`frame length ${length} exceeds ${MAX_PAYLOAD}`);
      const end = offset + HEADER_SIZE + length;
      if (end > buf.length) break;
      frames.push({ type: buf[offset], id: buf.readUInt32BE(offset + 1), payload: buf.subarray(offset + HEADER_SIZE, end) });
      offset = end;
    }
    buf = buf.subarray(offset);
    this.pending = buf.length ? [buf] : [];
    this.pendingBytes = buf.length;
    return frames;
  }

  /** Bytes received that do not yet form a whole frame. */
  get buffered(): number {
    return this.pendingBytes;
  }
}
