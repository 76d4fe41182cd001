// The request body's side of one exchange: what Node pushes to the worker
// (lib/http/body/push.ts) against the credit the page grants with READ, and
// the draining of a body the page never read. Apart from ./exchange.ts, which
// writes the response: the two directions share nothing but the request.

import { BodyPush } from '../http/body/push.js';
import { checkBodyGrant } from './exchange-rules.js';
import type { Job } from './job.js';
import { BODY_WINDOW } from './protocol.js';

/** What the body's push needs from its exchange. */
export interface BodySink {
  /** Sends a BODY frame to the worker. */
  send(chunk: Buffer): void;
  /** Whether the request is over (answered or aborted): nothing more is pushed. */
  over(): boolean;
  /** The client's body broke: the request is aborted. */
  broken(): void;
  /** Counts time the page waits on the client (+1 on, -1 off). */
  waitOnClient(delta: number): void;
}

export class RequestBody {
  private push: BodyPush | null = null;
  /** Bytes the worker may still be sent: granted by READ (or pushed unasked), minus what was sent. */
  credit: number;

  constructor(
    private readonly job: Job,
    private readonly sink: BodySink,
  ) {
    this.credit = job.hasBody && job.pushBody ? BODY_WINDOW : 0;
  }

  /** Pushes the body unasked when the request allows it (100-continue answered, or a body under the window). */
  start(): void {
    if (this.credit > 0) this.body().start();
  }

  /** READ: the page waits for body bytes and gives Node `grant` more credit (up to the window, no more). */
  grant(grant: number): void {
    checkBodyGrant(this.credit, grant);
    const push = this.body(); // made first: a new one starts from the credit before this grant
    this.credit += grant;
    push.grant(grant);
  }

  /** Lets an unread request body flow away, so the connection can be reused. */
  drain(): void {
    if (this.job.hasBody) this.body().drain();
  }

  private body(): BodyPush {
    return (this.push ??= new BodyPush(this.job.req, BODY_WINDOW, this.credit, {
      send: (chunk) => {
        this.credit -= chunk.length;
        this.sink.send(chunk);
      },
      over: () => this.sink.over(),
      broken: () => this.sink.broken(),
      waitOnClient: (delta) => this.sink.waitOnClient(delta),
    }));
  }
}
