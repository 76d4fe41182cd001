// A log stream never kills the server and never grows without bound: checked
// over a real Unix socket whose reader stalls, then catches up, then leaves.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CONTINUATION, LogStream, logEntry } from '../../../lib/util/log.js';

interface Pair {
  writer: Socket;
  reader: Socket;
  server: Server;
  dir: string;
}

async function socketPair(): Promise<Pair> {
  const dir = mkdtempSync(join(tmpdir(), 'pypages-log-'));
  const path = join(dir, 's');
  const server = createServer();
  const accepted = new Promise<Socket>((r) => server.once('connection', r));
  await new Promise<void>((r) => server.listen(path, r));
  const writer = connect(path);
  const reader = await accepted;
  reader.pause();
  return { writer, reader, server, dir };
}

const turn = () => new Promise((r) => setImmediate(r));
let pair: Pair | null = null;
afterEach(() => {
  pair?.writer.destroy();
  pair?.reader.destroy();
  pair?.server.close();
  if (pair) rmSync(pair.dir, { recursive: true, force: true });
  pair = null;
});

describe('LogStream', () => {
  it('writes the lines of one turn in order', async () => {
    pair = await socketPair();
    const log = new LogStream(pair.writer, 'test');
    for (let i = 0; i < 5; i++) log.write(`line ${i}\n`);
    let got = '';
    pair.reader.on('data', (d) => (got += d)).resume();
    await waitUntil(() => got.split('\n').length > 5);
    expect(got).toBe('line 0\nline 1\nline 2\nline 3\nline 4\n');
  });

  it('holds at most its limit for a stalled reader, counts what it drops, and says so once the reader catches up', async () => {
    pair = await socketPair();
    const limit = 64 * 1024;
    const log = new LogStream(pair.writer, 'test', limit);
    const line = `${'x'.repeat(99)}\n`;
    for (let i = 0; i < 20_000; i++) {
      log.write(line);
      if (i % 100 === 0) await turn();
    }
    await turn();
    let got = '';
    pair.reader.on('data', (d) => (got += d)).resume();
    log.write('after\n');
    await waitUntil(() => got.includes('after\n'));
    const kept = got.split('\n').filter((l) => l === line.trim()).length;
    const note = /(\d+) log line\(s\) were dropped from test/.exec(got);
    expect(note).not.toBeNull();
    expect(kept + Number(note![1])).toBe(20_000);
    // What the kernel's socket buffers took, plus our limit, and no more.
    expect(kept * line.length).toBeLessThan(limit + 1024 * 1024);
  });

  it('survives its reader going away, and tells whoever listens', async () => {
    pair = await socketPair();
    const log = new LogStream(pair.writer, 'test');
    const deaths: string[] = [];
    log.onDeath = (why) => deaths.push(why);
    pair.reader.destroy();
    for (let i = 0; i < 50 && log.alive; i++) {
      log.write('into the void\n'.repeat(100));
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(log.alive).toBe(false);
    expect(deaths).toHaveLength(1);
    expect(deaths[0]).toMatch(/EPIPE|ECONNRESET/);
    log.write('ignored\n'); // and nothing throws
  });
});

describe('logEntry', () => {
  it('leaves a plain message as it is', () => {
    expect(logEntry('request abc-1: GET /a.py → 500 (app): ValueError: no such user: x\tY é ü')).toBe(
      'request abc-1: GET /a.py → 500 (app): ValueError: no such user: x\tY é ü',
    );
  });

  it.each([
    ['an escape sequence', 'red\x1b[31m', 'red\\x1b[31m'],
    ['a carriage return', 'a\rforged', 'a\\x0dforged'],
    ['NUL, bell, backspace, DEL', '\x00\x07\x08\x7f', '\\x00\\x07\\x08\\x7f'],
    ['a C1 control (CSI)', 'x\x9b2J', 'x\\x9b2J'],
    ['a line separator', 'a\u2028b', 'a\\u2028b'],
    ['a bidi override', 'user\u202eexe.txt', 'user\\u202eexe.txt'],
  ])('escapes %s', (_, message, logged) => {
    expect(logEntry(message)).toBe(logged);
  });

  it('marks every line after the first, so none can pass for an entry of its own', () => {
    const forged =
      'ValueError: no such user: x\n[2026-01-01T00:00:00.000Z] [info] configuration reloaded\npypages: server died';
    const traceback =
      'Traceback (most recent call last):\n  File "/www/a.py", line 7, in application\n    raise ValueError(x)\n';
    const lines = logEntry(`${forged}\n${traceback}`).split('\n');
    expect(lines[0]).toBe('ValueError: no such user: x');
    expect(lines.slice(1)).toEqual([
      `${CONTINUATION}[2026-01-01T00:00:00.000Z] [info] configuration reloaded`,
      `${CONTINUATION}pypages: server died`,
      `${CONTINUATION}Traceback (most recent call last):`,
      `${CONTINUATION}  File "/www/a.py", line 7, in application`,
      `${CONTINUATION}    raise ValueError(x)`,
    ]);
    expect(CONTINUATION).toMatch(/^\s/); // what log shippers' multi-line rules take for a continuation
  });

  it('keeps a CRLF line end visible and still marks the next line', () => {
    expect(logEntry('a\r\nb')).toBe(`a\\x0d\n${CONTINUATION}b`);
  });
});

async function waitUntil(probe: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !probe(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(probe()).toBe(true);
}
