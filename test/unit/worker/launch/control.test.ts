// The fork server's control channel on Node's side, against the vectors it
// shares with the zygote's codec (test/python/forkserver/test_control.py)
// and against the tables of lib/worker/launch/forkserver-protocol.md.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  COMMAND_FIELDS,
  ControlError,
  decodeEvent,
  encodeCommand,
  EVENT_FIELDS,
  MAX_COMMAND_LINE,
  MAX_EVENT_LINE,
  readConnectionHeader,
  type Command,
} from '../../../../lib/worker/launch/control.js';

interface LineVector {
  name: string;
  line?: string;
  line_hex?: string;
  object?: Record<string, unknown>;
  decode_only?: boolean;
}
interface Vectors {
  commands: LineVector[];
  events: LineVector[];
  malformed_events: LineVector[];
  connections: { name: string; token: string; kind: string; header_hex: string }[];
}

const vectors = JSON.parse(
  readFileSync(new URL('../../../fixtures/forkserver-vectors.json', import.meta.url), 'utf8'),
) as Vectors;
const spec = readFileSync(new URL('../../../../lib/worker/launch/forkserver-protocol.md', import.meta.url), 'utf8');

/** The bytes of a vector's line, its newline included. */
const bytesOf = (v: LineVector): Buffer =>
  v.line_hex !== undefined ? Buffer.from(v.line_hex, 'hex') : Buffer.from(`${v.line}\n`, 'utf8');
const withoutNewline = (b: Buffer): Buffer => (b[b.length - 1] === 0x0a ? b.subarray(0, -1) : b);

describe('encodeCommand', () => {
  it.each(vectors.commands.filter((v) => !v.decode_only).map((v) => [v.name, v] as const))(
    'writes %s exactly as the vector',
    (_, v) => {
      expect(encodeCommand(v.object as unknown as Command).toString('latin1')).toBe(bytesOf(v).toString('latin1'));
    },
  );

  it('writes the fields in table order, and only those', () => {
    const command = { argv: [], env: {}, cwd: '/', extra: 1, token: 'a'.repeat(32), cmd: 'fork' } as unknown as Command;
    expect(encodeCommand(command).toString()).toBe(
      `{"cmd":"fork","token":"${'a'.repeat(32)}","cwd":"/","env":{},"argv":[]}\n`,
    );
  });

  it('refuses a command that breaks the spec, or is longer than the zygote reads', () => {
    const fork = { cmd: 'fork', token: 'a'.repeat(32), cwd: '/', env: {}, argv: [] };
    for (const bad of [
      { ...fork, cwd: 'relative' },
      { ...fork, token: 'short' },
      { ...fork, env: { A: 1 } },
      { cmd: 'ping', id: -1 },
      { cmd: 'ping', id: 1.5 },
    ]) {
      expect(() => encodeCommand(bad as unknown as Command), JSON.stringify(bad)).toThrow(ControlError);
    }
    expect(() => encodeCommand({ ...fork, argv: ['x'.repeat(MAX_COMMAND_LINE)] } as Command)).toThrow(ControlError);
  });
});

describe('decodeEvent', () => {
  it.each(vectors.events.map((v) => [v.name, v] as const))('reads %s', (_, v) => {
    expect(decodeEvent(withoutNewline(bytesOf(v)))).toEqual(v.object);
  });

  it.each(vectors.malformed_events.map((v) => [v.name, v] as const))('rejects %s', (_, v) => {
    expect(() => decodeEvent(withoutNewline(bytesOf(v)))).toThrow(ControlError);
  });

  it('rejects invalid UTF-8, a byte order mark, NaN and Infinity, rather than reading around them', () => {
    const pong = (text: string) => Buffer.from(text, 'latin1');
    expect(decodeEvent(pong('{"event":"pong","id":1}'))).toEqual({ event: 'pong', id: 1 });
    for (const bad of [
      Buffer.concat([
        pong('{"event":"fork-failed","token":"0123456789abcdef0123456789abcdef","error":"'),
        Buffer.from([0xff]),
        pong('"}'),
      ]),
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), pong('{"event":"pong","id":1}')]),
      pong('{"event":"pong","id":NaN}'),
      pong('{"event":"pong","id":Infinity}'),
      pong('{"event":"pong","id":-Infinity}'),
      pong('{"event":"toString"}'),
      pong('{"event":"__proto__"}'),
    ]) {
      expect(() => decodeEvent(bad), bad.toString('latin1')).toThrow(ControlError);
    }
  });

  it('rejects a line longer than an event may be', () => {
    const line = Buffer.from(
      `{"event":"fork-failed","token":"${'a'.repeat(32)}","error":"${'x'.repeat(MAX_EVENT_LINE)}"}`,
    );
    expect(() => decodeEvent(line)).toThrow(ControlError);
  });
});

describe('readConnectionHeader', () => {
  it.each(vectors.connections.map((v) => [v.name, v] as const))('reads %s', (_, v) => {
    expect(readConnectionHeader(Buffer.from(v.header_hex, 'hex'))).toEqual({ token: v.token, kind: v.kind });
  });

  it('is null for anything but a token and F or O', () => {
    const token = 'a'.repeat(32);
    for (const bad of [`${token}X`, `${token.slice(1)}F`, `${token}FF`, `${'-'.repeat(32)}F`, ''])
      expect(readConnectionHeader(Buffer.from(bad, 'latin1')), bad).toBeNull();
  });
});

describe('the spec', () => {
  /** {name: [[field, type], ...]} from the table under `## heading`. */
  function table(heading: string): Record<string, [string, string][]> {
    const section = spec.split(`\n## ${heading}`)[1].split('\n## ')[0];
    const rows = [...section.matchAll(/^\| `([a-z-]+)` +\| ([^|]+)\|/gm)];
    return Object.fromEntries(
      rows.map(([, name, fields]) => [
        name,
        [...fields.matchAll(/`([a-z]+)` ([a-z]+(?: or null)?)/g)].map((m) => [m[1], m[2]]),
      ]),
    );
  }
  const ours = (fields: typeof COMMAND_FIELDS | typeof EVENT_FIELDS) =>
    Object.fromEntries(Object.entries(fields).map(([name, list]) => [name, list.map(([field, t]) => [field, t.name])]));

  it('names the same commands, fields and types as the codec', () => {
    expect(ours(COMMAND_FIELDS)).toEqual(table('Commands'));
  });

  it('names the same events, fields and types as the codec', () => {
    expect(ours(EVENT_FIELDS)).toEqual(table('Events'));
  });

  it('has a vector for every command and event', () => {
    expect(new Set(vectors.commands.map((v) => v.object!.cmd))).toEqual(new Set(Object.keys(COMMAND_FIELDS)));
    expect(new Set(vectors.events.map((v) => v.object!.event))).toEqual(new Set(Object.keys(EVENT_FIELDS)));
  });
});
