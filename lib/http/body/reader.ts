import type { Readable } from 'node:stream';

const EMPTY = Buffer.alloc(0);
const discard = () => {};

/**
 * Pulls a request body on demand, a bounded slice at a time, so a worker
 * that reads slowly (or not at all) keeps the body in the socket, not in
 * memory. read() resolves with 1..max bytes, or an empty buffer at the end;
 * it rejects if the client goes away before the end.
 */
export class BodyReader {
  private leftover: Buffer = EMPTY;
  private failure: Error | null = null;
  private ended = false;

  constructor(private readonly stream: Readable) {
    // Made when the page first reads: the stream may have ended or failed already.
    this.ended = stream.readableEnded;
    if (stream.destroyed && !this.ended)
      this.failure = stream.errored ?? new Error('client closed the connection before the end of the request body');
    stream.once('end', () => (this.ended = true));
    stream.once('error', (err) => (this.failure = err));
    stream.once('close', () => {
      if (!this.ended) this.failure ??= new Error('client closed the connection before the end of the request body');
    });
  }

  async read(max: number): Promise<Buffer> {
    for (;;) {
      if (this.draining) return EMPTY;
      if (this.leftover.length) return this.take(this.leftover, max);
      const chunk = this.stream.read() as Buffer | null;
      if (chunk?.length) return this.take(chunk, max);
      if (this.ended || this.stream.readableEnded) return EMPTY;
      if (this.failure) throw this.failure;
      await this.readable();
    }
  }

  /**
   * Lets the rest of an unread body flow away, so the connection can be
   * reused. A read still waiting ends (with nothing): while it listens for
   * 'readable', resume() alone would not make the stream flow.
   */
  drain(): void {
    this.draining = true;
    this.leftover = EMPTY;
    this.wake?.();
    if (!this.stream.readableEnded && !this.stream.destroyed) this.stream.on('data', discard).resume();
  }

  private draining = false;
  private wake: (() => void) | null = null;

  private take(chunk: Buffer, max: number): Buffer {
    this.leftover = chunk.length > max ? chunk.subarray(max) : EMPTY;
    return chunk.length > max ? chunk.subarray(0, max) : chunk;
  }

  private readable(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.wake = null;
        this.stream.off('readable', done).off('end', done).off('close', done).off('error', done);
        resolve();
      };
      this.wake = done;
      this.stream.on('readable', done).on('end', done).on('close', done).on('error', done);
    });
  }
}
