// Waiting for a new worker process to say READY. Its own file: it is the one
// moment the pipe is read before a Worker exists, with its own ways to fail
// (a timeout, an early exit, a wrong first frame).

import { FrameDecoder, FromWorker, parseJson, type Frame } from './protocol.js';
import type { WorkerProcess } from './launch/spawn.js';

/** READY's payload: who the worker is. */
export interface Ready {
  pid: number;
  python: string;
  executable: string;
  protocol: number;
}

/** Takes over a process that said READY: its decoder (holding any partial frame) and the frames read with READY. */
export type Adopt<T> = (ready: Ready, decoder: FrameDecoder, early: Frame[]) => T;

const READY_TIMEOUT_MS = 30_000;

/**
 * Waits for READY, then resolves with what `adopt` makes of the process, called
 * in the same turn so that no byte and no exit falls between the two. On a
 * timeout, an exit or another first frame it kills the process and rejects
 * with the reason and the process's last output.
 */
export function handshake<T>(proc: WorkerProcess, adopt: Adopt<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    const decoder = new FrameDecoder();
    const fail = (reason: string) => {
      cleanup();
      proc.kill('SIGKILL');
      reject(new Error(`${reason}${proc.tail.length ? `:\n${proc.tail.join('\n')}` : ''}`));
    };
    const timer = setTimeout(
      () => fail(`the Python worker did not start within ${READY_TIMEOUT_MS / 1000} s`),
      READY_TIMEOUT_MS,
    );
    const onExit = (code: number | null, signal: string | null) =>
      fail(`the Python worker exited before it was ready (${signal ?? `code ${code}`})`);
    const onData = (chunk: Buffer) => {
      const got = readReady(decoder, chunk);
      if (got === null) return;
      if (typeof got === 'string') return fail(got);
      cleanup();
      resolve(adopt(got.ready, decoder, got.early));
    };
    const cleanup = () => {
      clearTimeout(timer);
      proc.off('exit', onExit);
      proc.output.off('data', onData);
    };
    proc.once('exit', onExit);
    proc.output.on('data', onData);
  });
}

/**
 * What a chunk says: nothing whole yet (null), READY and the frames after it,
 * or why it is not READY. A broken frame or READY payload is this process's
 * failure, never the server's: caught here.
 */
function readReady(decoder: FrameDecoder, chunk: Buffer): { ready: Ready; early: Frame[] } | string | null {
  try {
    const frames = decoder.push(chunk);
    if (!frames.length) return null;
    if (frames[0].type !== FromWorker.READY) return notReady(frames[0]);
    return { ready: parseJson<Ready>(frames[0].payload), early: frames.slice(1) };
  } catch (err) {
    return `the Python worker sent a broken READY: ${(err as Error).message}`;
  }
}

function notReady(first: Frame): string {
  return `the Python worker sent 0x${first.type.toString(16)} instead of READY`;
}
