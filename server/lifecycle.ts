// Accepting, then draining: counts requests in flight so a graceful shutdown
// can wait for them (up to shutdown-grace) before the workers are stopped.

import { type Server, ServerResponse } from 'node:http';
import type { Config } from '../lib/config/config.js';
import { devModeOn } from '../lib/config/dev-mode.js';
import type { Logger } from '../lib/util/log.js';
import type { Runtime } from './runtime.js';

/** How long requests in flight may finish in development mode: a student waits at the keyboard. */
export const DEV_SHUTDOWN_GRACE = 3;

/** The seconds requests in flight get at a stop: shutdown-grace, at most DEV_SHUTDOWN_GRACE in development mode. */
export function shutdownGrace(config: Config): number {
  return devModeOn(config) ? Math.min(config.shutdownGrace, DEV_SHUTDOWN_GRACE) : config.shutdownGrace;
}

export class Lifecycle {
  accepting = true;
  inflight = 0;
  private readonly startedAt = Date.now();
  private idleWaiters: (() => void)[] = [];
  private readonly open = new Set<ServerResponse>();
  private server: Server | null = null;
  private stopping: (() => void)[] = [];
  private held: (() => number)[] = [];

  constructor(private readonly log: Logger) {}

  get uptimeSeconds(): number {
    return Math.round((Date.now() - this.startedAt) / 1000);
  }

  /**
   * A request arrived; call the returned function when its response is done
   * (or the client left). Its connection is closed after it once draining has
   * begun: a client that reused it would find the next request refused.
   */
  track(res?: unknown): () => void {
    this.inflight++;
    const http1 = res instanceof ServerResponse ? res : null;
    if (http1 && !this.accepting) closeAfter(http1);
    else if (http1) this.open.add(http1);
    return () => {
      if (http1) this.open.delete(http1);
      if (!this.accepting) setImmediate(() => this.server?.closeIdleConnections());
      this.inflight--;
      if (this.inflight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    };
  }

  /**
   * For what holds requests open by design (live reload's event streams):
   * `stop` runs when shutdown begins; `open` counts them, as they are no work to finish.
   */
  onShutdown(stop: () => void, open: () => number = () => 0): void {
    this.stopping.push(stop);
    this.held.push(open);
  }

  /** Requests in flight that are work to finish: not the streams held open by design. */
  get working(): number {
    return this.inflight - this.held.reduce((n, open) => n + open(), 0);
  }

  /**
   * Stops accepting connections, lets requests in flight finish within the
   * grace period, then stops the workers (gracefully if all finished, killed
   * otherwise) and closes what connections remain.
   */
  async shutdown(server: Server, runtime: Runtime): Promise<void> {
    if (!this.accepting) return;
    this.accepting = false;
    this.server = server;
    for (const res of this.open) closeAfter(res);
    for (const stop of this.stopping) stop();
    const closed = new Promise((r) => server.close(r));
    server.closeIdleConnections();
    const grace = shutdownGrace(runtime.config);
    const finished = await this.whenIdle(grace * 1000);
    if (!finished)
      this.log.error(`shutdown: ${this.inflight} request(s) still running after ${grace} s; stopping them`);
    await (finished ? runtime.drain() : runtime.close());
    server.closeAllConnections();
    await closed;
  }

  private whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.inflight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}

/**
 * Its connection ends with it: `Connection: close` if its head is not sent
 * yet; otherwise the connection is closed once idle, after the answer (a
 * server may close a persistent connection between answers).
 */
function closeAfter(res: ServerResponse): void {
  if (!res.headersSent) res.shouldKeepAlive = false;
}
