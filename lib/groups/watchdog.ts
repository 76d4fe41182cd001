// The periodic sweep over every group's workers. Every SWEEP_MS:
// request-timeout (504 for the request, the worker's Python stacks to the
// log, the worker replaced). Every second: heartbeats (a worker silent for
// heartbeat-timeout is hung, and treated the same way), max-memory
// (recycled gracefully) and idle-timeout (an idle group's processes
// stopped). Each group is held to the limits of its own site.

import type { Logger } from '../util/log.js';
import type { Group } from './group.js';
import { markExit } from './observer.js';

const SWEEP_MS = 100;
const SLOW_SWEEP_EVERY = 10; // heartbeat, memory and idle checks: every second

export class Watchdog {
  private readonly timer: NodeJS.Timeout;
  private sweeps = 0;

  /** Starts sweeping the groups `groups()` lists at each sweep. */
  constructor(
    private readonly groups: () => Iterable<Group>,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  /** No more sweeps. */
  stop(): void {
    clearInterval(this.timer);
  }

  private sweep(): void {
    const now = Date.now();
    const slow = ++this.sweeps % SLOW_SWEEP_EVERY === 0;
    for (const group of this.groups()) {
      this.enforceTimeouts(group, now);
      if (!slow) continue;
      this.heartbeat(group, now);
      this.enforceMemory(group);
      this.stopIfIdle(group, now);
    }
  }

  /** request-timeout: 504 for the request, stacks to the log, the worker replaced. */
  private enforceTimeouts(group: Group, now: number): void {
    const limitMs = group.spec.site.limits.requestTimeout * 1000;
    if (limitMs === 0) return;
    for (const worker of group.workers) {
      for (const exchange of worker.inFlight()) {
        if (exchange.isTimedOut || exchange.activeMs(now) <= limitMs) continue;
        this.log.error(
          `request ${exchange.requestId}: ${group.spec.label} ran longer than request-timeout (${limitMs / 1000} s): 504`,
        );
        exchange.timedOut(limitMs);
        markExit(worker, 'timeout');
        worker.dumpStacksAndKill(`request ${exchange.requestId} timed out`);
      }
    }
  }

  private heartbeat(group: Group, now: number): void {
    const timeoutMs = group.spec.site.limits.heartbeatTimeout * 1000;
    if (timeoutMs === 0) return;
    for (const worker of group.workers) {
      if (now - worker.lastPong > timeoutMs) {
        markExit(worker, 'timeout');
        worker.dumpStacksAndKill(`no heartbeat for ${Math.round((now - worker.lastPong) / 1000)} s`);
      } else if (now - worker.lastPong >= timeoutMs / 3) worker.ping();
    }
  }

  private enforceMemory(group: Group): void {
    const limit = group.spec.site.limits.maxMemory;
    if (limit === 0) return;
    for (const worker of group.workers) {
      const rss = worker.rss();
      if (rss > limit && !worker.retiring)
        group.retire(worker, `RSS ${mib(rss)} over max-memory ${mib(limit)}; recycling`, 'memory');
    }
  }

  private stopIfIdle(group: Group, now: number): void {
    const idleMs = group.spec.site.limits.idleTimeout * 1000;
    if (idleMs === 0 || !group.idle || group.workers.length === 0 || now - group.lastUsed < idleMs) return;
    void group.drain(`idle for ${Math.round((now - group.lastUsed) / 1000)} s; stopping its processes`, 'idle');
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
