import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  encodeFrame,
  FrameDecoder,
  HEADER_SIZE,
  MAX_PAYLOAD,
  ProtocolError,
  readUint32,
  uint32Payload,
  parseJson,
} from '../../../lib/worker/protocol.js';

interface Vector {
  name: string;
  type: number;
  id: number;
  payload_hex: string;
  frame_hex: string;
}
const vectors: Vector[] = JSON.parse(
  readFileSync(new URL('../../fixtures/protocol-vectors.json', import.meta.url), 'utf8'),
);

describe('protocol vectors shared with the Python side', () => {
  it('has vectors', () => expect(vectors.length).toBeGreaterThan(5));
  for (const v of vectors) {
    it(`encodes ${v.name}`, () => {
      expect(encodeFrame(v.type, v.id, Buffer.from(v.payload_hex, 'hex')).toString('hex')).toBe(v.frame_hex);
    });
    it(`decodes ${v.name}`, () => {
      const frames = new FrameDecoder().push(Buffer.from(v.frame_hex, 'hex'));
      expect(frames).toHaveLength(1);
      expect(frames[0].type).toBe(v.type);
      expect(frames[0].id).toBe(v.id);
      expect(frames[0].payload.toString('hex')).toBe(v.payload_hex);
    });
  }
});

describe('FrameDecoder', () => {
  const all = Buffer.concat(vectors.map((v) => Buffer.from(v.frame_hex, 'hex')));

  it('decodes several frames delivered in one chunk', () => {
    const frames = new FrameDecoder().push(all);
    expect(frames.map((f) => f.type)).toEqual(vectors.map((v) => v.type));
  });

  it('decodes frames split at every possible byte boundary', () => {
    for (let cut = 1; cut < all.length; cut += 7) {
      const d = new FrameDecoder();
      const frames = [...d.push(all.subarray(0, cut)), ...d.push(all.subarray(cut))];
      expect(frames.map((f) => f.payload.toString('hex'))).toEqual(vectors.map((v) => v.payload_hex));
      expect(d.buffered).toBe(0);
    }
  });

  it('decodes a stream fed one byte at a time', () => {
    const d = new FrameDecoder();
    const frames = [];
    for (const byte of all) frames.push(...d.push(Buffer.from([byte])));
    expect(frames).toHaveLength(vectors.length);
  });

  it('keeps a partial frame buffered', () => {
    const d = new FrameDecoder();
    expect(d.push(encodeFrame(0x83, 1, Buffer.from('hello')).subarray(0, HEADER_SIZE + 2))).toEqual([]);
    expect(d.buffered).toBe(HEADER_SIZE + 2);
  });

  it('rejects an oversize length', () => {
    const header = Buffer.alloc(HEADER_SIZE);
    header.writeUInt32BE(MAX_PAYLOAD + 1, 5);
    expect(() => new FrameDecoder().push(header)).toThrow(ProtocolError);
  });
});

describe('payload helpers', () => {
  it('round-trips uint32', () => expect(readUint32(uint32Payload(0xfffffffe))).toBe(0xfffffffe));
  it('rejects a uint32 payload of the wrong size', () =>
    expect(() => readUint32(Buffer.alloc(3))).toThrow(ProtocolError));
  it('rejects bad JSON with a ProtocolError', () => expect(() => parseJson(Buffer.from('{'))).toThrow(ProtocolError));
  it('refuses to encode an oversize payload', () => {
    expect(() => encodeFrame(0x83, 1, Buffer.alloc(MAX_PAYLOAD + 1))).toThrow(RangeError);
  });
});

describe('FrameDecoder with large frames', () => {
  it('reassembles a 1 MiB frame delivered in a thousand pieces, byte for byte', () => {
    const payload = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) % 256;
    const stream = Buffer.concat([encodeFrame(0x83, 9, payload), encodeFrame(0x84, 9, Buffer.from('{}'))]);
    const d = new FrameDecoder();
    const frames = [];
    const step = Math.ceil(stream.length / 1000);
    for (let at = 0; at < stream.length; at += step) frames.push(...d.push(stream.subarray(at, at + step)));
    expect(frames.map((f) => f.type)).toEqual([0x83, 0x84]);
    expect(frames[0].payload.equals(payload)).toBe(true);
    expect(d.buffered).toBe(0);
  });
});

describe('FrameDecoder parts', () => {
  it('keeps a frame split across reads as the pieces that arrived, sharing their memory', () => {
    const payload = Buffer.from('abcdefghij');
    const stream = encodeFrame(0x83, 3, payload);
    const first = stream.subarray(0, 12); // header and "abc"
    const second = Buffer.from(stream.subarray(12)); // the rest, in a buffer of its own
    const d = new FrameDecoder();
    expect(d.push(first)).toEqual([]);
    const [frame] = d.push(second);
    expect(frame.parts.map((p) => p.toString())).toEqual(['abc', 'defghij']);
    expect(frame.parts[1].buffer).toBe(second.buffer); // not a copy
    expect(frame.payload.equals(payload)).toBe(true); // joined on demand
  });

  it('gives a frame that arrived whole as one part, and an empty one as none', () => {
    const [whole, empty] = new FrameDecoder().push(
      Buffer.concat([encodeFrame(0x83, 1, Buffer.from('xyz')), encodeFrame(0x84, 1)]),
    );
    expect(whole.parts.map(String)).toEqual(['xyz']);
    expect(empty.parts).toEqual([]);
    expect(empty.payload.length).toBe(0);
  });
});

describe('encodeFrame header only', () => {
  it('encodes the header of a frame whose payload is written separately: together they decode as one frame', () => {
    const payload = Buffer.from('a large body');
    const header = encodeFrame(0x02, 7, undefined, payload.length);
    expect(header.length).toBe(HEADER_SIZE);
    const [frame] = new FrameDecoder().push(Buffer.concat([header, payload]));
    expect({ type: frame.type, id: frame.id, payload: frame.payload.toString() }).toEqual({
      type: 0x02,
      id: 7,
      payload: 'a large body',
    });
  });

  it('refuses a header for an oversize payload', () => {
    expect(() => encodeFrame(0x02, 7, undefined, MAX_PAYLOAD + 1)).toThrow(RangeError);
  });
});
