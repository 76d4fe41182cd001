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
    // A broken frame or READY payload is this process's failure, never the server's: caught here.
    const onData = (chunk: Buffer) => {
      let frames: Frame[];
      let ready: Ready;
      try {
        frames = decoder.push(chunk);
        if (!frames.length) return;
        if (frames[0].type !== FromWorker.READY) return fail(notReady(frames[0]));
        ready = parseJson<Ready>(frames[0].payload);
      } catch (err) {
        return fail(`the Python worker sent a broken READY: ${(err as Error).message}`);
      }
      cleanup();
      resolve(adopt(ready, decoder, frames.slice(1)));
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

function notReady(first: Frame): string {
  return `the Python worker sent 0x${first.type.toString(16)} instead of READY`;
}
