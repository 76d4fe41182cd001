// A new worker process until READY, with a real child process writing the
// frames: READY and what came with it go to `adopt` together; a wrong first
// frame or an early exit kills the process and rejects with its last output.
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { handshake } from '../../../lib/worker/handshake.js';
import type { WorkerProcess } from '../../../lib/worker/launch/spawn.js';
import { encodeFrame, FromWorker, jsonPayload } from '../../../lib/worker/protocol.js';

/** A child that writes `bytes` to its stdout, then exits with `code` (or waits for stdin to close when null). */
function child(bytes: Buffer, code: number | null, tail: string[] = []): WorkerProcess & { exited: Promise<unknown> } {
  const script =
    `process.stdout.write(Buffer.from(process.argv[1], 'hex'), () => {` +
    (code === null
      ? `process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`
      : `process.exit(${code});`) +
    `});`;
  const cp = spawn(process.execPath, ['-e', script, bytes.toString('hex')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const proc = Object.assign(new EventEmitter(), {
    pid: cp.pid as number,
    input: cp.stdin,
    output: cp.stdout,
    tail,
    kill: (signal?: NodeJS.Signals) => void cp.kill(signal),
  });
  const exited = new Promise((resolve) => cp.once('exit', resolve));
  cp.once('exit', (c, s) => proc.emit('exit', c, s));
  return Object.assign(proc, { exited });
}

const READY = { pid: 4242, python: '3.11.7', executable: '/usr/bin/python3', protocol: 1 };

describe('handshake', () => {
  it('hands READY, the frames read with it and its decoder (holding a partial frame) to adopt, in one go', async () => {
    const watch = encodeFrame(FromWorker.WATCH, 0, jsonPayload({ files: [] }));
    // One write under PIPE_BUF: it arrives in one read, READY and all behind it together.
    const proc = child(
      Buffer.concat([encodeFrame(FromWorker.READY, 0, jsonPayload(READY)), watch, watch.subarray(0, 3)]),
      null,
    );
    try {
      const got = await handshake(proc, (ready, decoder, early) => ({ ready, decoder, early }));
      expect(got.ready).toEqual(READY);
      expect(got.early.map((f) => f.type)).toEqual([FromWorker.WATCH]);
      expect(got.decoder.push(watch.subarray(3)).map((f) => f.type)).toEqual([FromWorker.WATCH]);
    } finally {
      proc.input.end();
      await proc.exited;
    }
  });

  it('kills a process whose first frame is not READY, and says what it sent', async () => {
    const proc = child(encodeFrame(FromWorker.WATCH, 0, jsonPayload({ files: [] })), null, ['last words']);
    let adopted = false;
    const started = handshake(proc, () => (adopted = true));
    await expect(started).rejects.toThrow(/sent 0x88 instead of READY:\nlast words$/);
    expect(await proc.exited).toBe(null); // killed, not exited on its own
    expect(adopted).toBe(false);
  });

  it.each([
    ['a READY payload that is not JSON', encodeFrame(FromWorker.READY, 0, Buffer.from('not json'))],
    ['a frame that breaks the format', Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])],
  ])('kills a process that sends %s, and rejects: the server goes on', async (_what, bytes) => {
    const proc = child(bytes, null);
    let adopted = false;
    await expect(handshake(proc, () => (adopted = true))).rejects.toThrow(/broken READY/);
    expect(await proc.exited).toBe(null);
    expect(adopted).toBe(false);
  });

  it('rejects when the process exits before READY, with its exit code', async () => {
    const proc = child(Buffer.alloc(0), 3);
    await expect(handshake(proc, () => true)).rejects.toThrow('the Python worker exited before it was ready (code 3)');
  });
});
