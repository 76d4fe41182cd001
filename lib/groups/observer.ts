// What a group's life looks like from outside (lib/metrics/metrics.ts
// counts it): workers started, workers ended and why, requests turned away
// for want of a thread, and which group a request ran in.

import type { ServerResponse } from 'node:http';
import type { Worker } from '../worker/worker.js';
import type { Group } from './group.js';

/**
 * Why a worker process ended. crash: it died on its own (an exit, a signal,
 * a protocol error); timeout: killed for request-timeout or a missed
 * heartbeat; memory: recycled over max-memory; recycle: max-requests, or
 * after a failed import; reload: its code changed on disk, or the config was
 * reloaded; idle: idle-timeout; evicted: stopped to make room under
 * max-workers; shutdown: the server stopped.
 */
export type ExitReason = 'crash' | 'timeout' | 'memory' | 'recycle' | 'reload' | 'idle' | 'evicted' | 'shutdown';

export interface GroupObserver {
  workerStarted(group: Group): void;
  workerExited(group: Group, reason: ExitReason): void;
  /** A request got 503: the line was full, or no thread (or process) freed up within queue-timeout. */
  rejected(group: Group): void;
  /** The request answered by `res` runs in `group` (told before it runs). */
  routed(res: ServerResponse, group: Group): void;
}

const reasons = new WeakMap<Worker, ExitReason>();

/** Records why `worker` is being ended; the first reason given is kept (a retired worker that then crashes was retired). */
export function markExit(worker: Worker, reason: ExitReason): void {
  if (!reasons.has(worker)) reasons.set(worker, reason);
}

/** Why `worker` ended: the reason marked, else it crashed. */
export function exitReasonOf(worker: Worker): ExitReason {
  return reasons.get(worker) ?? 'crash';
}
