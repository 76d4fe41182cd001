// A request body on its way to the page's worker: sent as it arrives, never
// more than the page's credit ahead of what it has read (lib/worker/protocol.md,
// "Request body"). The credit starts at the whole window when Node may send
// unasked (else at 0: the page's first read asks), and each READ adds to it.
// The worker tops the credit up to the window, so a READ that brings it to
// the whole window while no piece is on its way means the page waits on its
// client: time that request-timeout does not count.

import type { Readable } from 'node:stream';
import { BodyReader } from './reader.js';

/** Where the body goes, and what the push tells the request it belongs to. */
export interface BodyOutlet {
  /** One piece of the body (at most the window); an empty one at its end. */
  send(chunk: Buffer): void;
  /** True once the request is over (answered, aborted): nothing more is sent. */
  over(): boolean;
  /** The body cannot be read to its end: the client left, or it grew past max-body. */
  broken(): void;
  /** The page starts (+1) or stops (-1) waiting on its client for body bytes. */
  waitOnClient(delta: number): void;
}

export class BodyPush {
  /** Made at the first push or drain: the stream is read only from then on. */
  private reader: BodyReader | null = null;
  private ended = false;
  private pushing = false;
  private pageWaits = false;

  /** `credit`: bytes that may go before the page asks (0 or `window`). */
  constructor(
    private readonly body: Readable,
    private readonly window: number,
    private credit: number,
    private readonly outlet: BodyOutlet,
  ) {}

  /** Starts sending what the credit allows. */
  start(): void {
    if (this.credit > 0) void this.push();
  }

  /** READ: the page has read all it was sent, and gives `grant` bytes more credit. */
  grant(grant: number): void {
    this.credit += grant;
    if (!this.pageWaits && !this.ended && this.credit >= this.window) {
      this.pageWaits = true;
      this.outlet.waitOnClient(+1);
    }
    void this.push();
  }

  /** Lets what is left of the body flow away unread, so the connection can be reused. */
  drain(): void {
    this.read().drain();
  }

  private read(): BodyReader {
    return (this.reader ??= new BodyReader(this.body));
  }

  /** Sends the body as it arrives, within the credit; an empty piece at its end. */
  private async push(): Promise<void> {
    if (this.pushing) return;
    this.pushing = true;
    try {
      while (this.credit > 0 && !this.ended && !this.outlet.over()) {
        const chunk = await this.read().read(Math.min(this.credit, this.window));
        if (this.outlet.over()) return; // the request ended meanwhile: its drain() takes the rest
        this.credit -= chunk.length;
        this.ended = chunk.length === 0;
        this.outlet.send(chunk);
        this.pageWaitOver();
      }
    } catch {
      this.outlet.broken();
    } finally {
      this.pushing = false;
      this.pageWaitOver(); // ended without a piece (the request is over): nobody waits any more
    }
  }

  private pageWaitOver(): void {
    if (!this.pageWaits) return;
    this.pageWaits = false;
    this.outlet.waitOnClient(-1);
  }
}
