// How long a page itself has worked on a request: wall time minus the time
// it waited on its client (body bytes to arrive, response bytes to leave),
// which request-timeout does not count against the page.

export class PageClock {
  private readonly startedAt = Date.now();
  private clientWaitMs = 0;
  private clientWaits = 0;
  private clientWaitSince = 0;

  /** `onWaiting` is told whether the page now waits on its client (lib/http/client-timeouts.ts reads it). */
  constructor(private readonly onWaiting: (waiting: boolean) => void) {}

  /** The page starts (+1) or stops (-1) one wait on its client; waits may overlap. */
  waitOnClient(delta: number): void {
    const now = Date.now();
    if (this.clientWaits === 0 && delta > 0) this.clientWaitSince = now;
    this.clientWaits += delta;
    if (this.clientWaits === 0) this.clientWaitMs += now - this.clientWaitSince;
    this.onWaiting(this.clientWaits > 0);
  }

  /** Wall time since the request began, minus the time spent waiting on the client. */
  activeMs(now = Date.now()): number {
    const waiting = this.clientWaits > 0 ? now - this.clientWaitSince : 0;
    return now - this.startedAt - this.clientWaitMs - waiting;
  }
}
