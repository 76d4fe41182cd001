// One interpreter group: its pool of worker processes (up to `processes`,
// each running up to `threads` requests), the line of requests waiting for a
// free thread, reload when its code changed on disk, and recycling.

import { statSync } from 'node:fs';
import type { Site } from '../site/site.js';
import type { Job } from '../worker/exchange.js';
import { failed, type Outcome } from '../worker/outcome.js';
import { markExit, type ExitReason, type GroupObserver } from './observer.js';
import type { GroupSpec } from './spec.js';
import type { Logger } from '../util/log.js';
import { Worker, type WatchedFile } from '../worker/worker.js';
import type { Launcher } from '../worker/launch/spawn.js';
import { WakeList } from './wake-list.js';
import { launchOptions } from '../tenant/launch-options.js';

/** What a group needs from the registry; its limits are its site's (spec.site.limits). */
export interface GroupContext {
  readonly launcher: Launcher;
  readonly log: Logger;
  /** Waits for room under the global process cap (evicting idle groups); false if the deadline passed. */
  reserve(group: Group, deadline: number): Promise<boolean>;
  /** Gives back a reservation that did not become a process. */
  unreserve(): void;
  /** A worker process of this group ended: its slot is free. */
  released(group: Group, worker: Worker): void;
  /** Scripts of this group to import as soon as a worker starts. */
  preloadFor(group: Group): string[];
  /** Runs a request that reached this group after it was closed (a reload) in its new group, of the site named as `site`. */
  redispatch(site: Site, job: Job): Promise<Outcome>;
  readonly observer?: GroupObserver; // told of workers started (and, via released, ended): metrics
}

export type ProcessState = 'starting' | 'ready' | 'busy' | 'retiring';

export interface ProcessStatus {
  pid: number;
  state: ProcessState;
  served: number;
  inflight: number;
  rssBytes: number;
  uptimeSeconds: number;
}

export class Group {
  readonly workers: Worker[] = [];
  lastUsed = Date.now();
  /** Replaced by a reload: requests still arriving here go to the new group. */
  closed = false;
  private starting = 0;
  private readonly line = new WakeList();
  private queued = 0;

  constructor(
    readonly spec: GroupSpec,
    private readonly ctx: GroupContext,
  ) {}

  get inflight(): number {
    return this.workers.reduce((n, w) => n + w.inflight, 0);
  }

  get queueDepth(): number {
    return this.queued;
  }

  /** No request running or waiting: it may be stopped without harm. */
  get idle(): boolean {
    return this.inflight === 0 && this.queued === 0 && this.starting === 0;
  }

  /** Runs one request; never rejects: failures become an Outcome (503 when the line is full or too slow). */
  async run(job: Job): Promise<Outcome> {
    this.lastUsed = Date.now();
    this.reloadIfChanged();
    const deadline = this.lastUsed + this.spec.site.limits.queueTimeout * 1000;
    let inLine = false;
    try {
      for (;;) {
        if (clientGone(job)) return CLIENT_GONE;
        if (this.closed) return this.ctx.redispatch(this.spec.site, job);
        const worker = this.freeWorker();
        // Newcomers go behind those already waiting.
        if (worker && (inLine || this.queued === 0)) return this.runOn(worker, job);
        if (!worker && this.workers.length + this.starting < this.spec.processes) {
          const started = await this.grow(deadline);
          if (!(started instanceof Worker)) return started;
          // The request that started a worker uses it first: it was there before anyone now waiting.
          if (this.hasFreeThread(started)) return this.runOn(started, job, true);
          continue;
        }
        if (!inLine && this.queued >= this.spec.site.limits.queueLimit) return lineFull(this.spec);
        if (!inLine) this.queued++;
        inLine = true;
        if (!(await this.waitInLine(job, deadline))) return waitedTooLong(this.spec);
      }
    } finally {
      if (inLine) this.queued--;
    }
  }

  /** Waits for a change; a client that hangs up meanwhile leaves the line at once. */
  private async waitInLine(job: Job, deadline: number): Promise<boolean> {
    const leave = () => this.wake();
    job.res.once('close', leave);
    try {
      return await this.line.wait(deadline);
    } finally {
      job.res.off('close', leave);
    }
  }

  /** The least busy worker with a free thread. */
  private freeWorker(): Worker | null {
    let best: Worker | null = null;
    for (const w of this.workers) {
      if (!this.hasFreeThread(w)) continue;
      if (!best || w.inflight < best.inflight) best = w;
    }
    return best;
  }

  private hasFreeThread(w: Worker): boolean {
    return w.alive && !w.retiring && w.inflight < this.spec.threads;
  }

  private async runOn(worker: Worker, job: Job, wakeOthers = false): Promise<Outcome> {
    const outcome = worker.handle(job); // synchronous up to here: the thread is taken before anyone else looks
    if (wakeOthers) this.wake(); // a new worker may have threads to spare
    if (worker.served >= this.recycleAfter(worker))
      this.retire(worker, `served ${worker.served} requests (max-requests)`, 'recycle');
    const result = await outcome;
    // A failed import leaves a half-initialised interpreter: start afresh next time.
    if (result.kind === 'error' && result.errorKind === 'load') this.retire(worker, null, 'recycle');
    // A worker that has only ever been asked about modules that are not pages holds nothing worth keeping.
    if (result.kind === 'error' && result.errorKind === 'not-page' && worker.watched.length === 0)
      this.retire(worker, null, 'recycle');
    return result;
  }

  private readonly limits = new WeakMap<Worker, number>();

  private recycleAfter(worker: Worker): number {
    const { maxRequests, maxRequestsJitter } = this.spec.site.limits;
    if (maxRequests === 0) return Infinity;
    let limit = this.limits.get(worker);
    if (limit === undefined) {
      limit = maxRequests + Math.floor(Math.random() * (maxRequestsJitter + 1));
      this.limits.set(worker, limit);
    }
    return limit;
  }

  /** Starts one more worker process; returns it, or an error Outcome if it cannot. */
  private async grow(deadline: number): Promise<Worker | Outcome> {
    this.starting++;
    let worker: Worker | null = null;
    try {
      if (!(await this.ctx.reserve(this, deadline)))
        return busy(`no room for another Python process (max-workers) within the queue timeout`);
      try {
        worker = await this.launch();
      } finally {
        this.ctx.unreserve();
      }
      this.adopt(worker);
      return worker;
    } catch (err) {
      const message = (err as Error).message;
      this.ctx.log.error(`${this.spec.label}: cannot start a worker: ${message}`);
      return failed('start', message);
    } finally {
      this.starting--;
      if (!worker) this.wake(); // on success, the starter wakes the others once it has its thread
    }
  }

  private async launch(): Promise<Worker> {
    const { spec, ctx } = this;
    const proc = await ctx.launcher(launchOptions(spec, ctx.preloadFor(this), ctx.log));
    return Worker.start(proc, { tag: spec.label, log: ctx.log });
  }

  private adopt(worker: Worker): void {
    this.workers.push(worker);
    this.ctx.observer?.workerStarted(this);
    if (this.closed) this.retire(worker, null, 'reload'); // started while a reload closed this group: it takes no requests
    worker.on('slot', () => this.wake());
    worker.once('exit', () => {
      this.workers.splice(this.workers.indexOf(worker), 1);
      this.ctx.released(this, worker);
      this.wake();
    });
  }

  /** Starts the group's processes now (preload at server start). */
  async warm(): Promise<void> {
    while (this.workers.length + this.starting < this.spec.processes) {
      const started = await this.grow(Date.now() + this.spec.site.limits.queueTimeout * 1000);
      if (!(started instanceof Worker)) throw new Error(started.kind === 'error' ? started.message : 'cannot start');
      this.wake();
    }
  }

  /** Something changed (a thread freed, a worker started or died): everyone in line looks again, in order. */
  private wake(): void {
    this.line.wake();
  }

  /**
   * Retires a worker whose imported files changed on disk: the next request
   * runs the new code. Once per turn of the event loop: the requests of one
   * turn arrived together, and an edit between them cannot be told from one
   * just after.
   */
  private reloadIfChanged(): void {
    if (this.checkedThisTurn) return;
    this.checkedThisTurn = true;
    setImmediate(() => (this.checkedThisTurn = false));
    for (const worker of this.workers) {
      if (worker.retiring || worker.watched.length === 0) continue;
      if (changed(worker.watched))
        this.retire(worker, 'code changed on disk; the next request starts a new worker', 'reload');
    }
  }

  private checkedThisTurn = false;

  /** Lets a worker finish what it runs, and takes no more requests to it. */
  retire(worker: Worker, reason: string | null, why: ExitReason): void {
    if (worker.retiring) return;
    markExit(worker, why);
    if (reason) this.ctx.log.info(`${this.spec.label} pid ${worker.pid}: ${reason}`);
    worker.retire();
    this.wake();
  }

  /** Closes the group for good: its workers finish what they run, then stop; new requests go elsewhere. */
  async close(): Promise<void> {
    this.closed = true;
    this.wake();
    await this.drain(null, 'reload');
  }

  /** Retires every worker and resolves once they have all exited. */
  async drain(reason: string | null, why: ExitReason): Promise<void> {
    const exits = this.workers.map((w) => new Promise((r) => w.once('exit', r)));
    for (const w of [...this.workers]) this.retire(w, reason, why);
    await Promise.all(exits);
  }

  status(): ProcessStatus[] {
    return this.workers.map((w) => ({
      pid: w.pid,
      state: w.retiring ? 'retiring' : w.inflight > 0 ? 'busy' : 'ready',
      served: w.served,
      inflight: w.inflight,
      rssBytes: w.rss(),
      uptimeSeconds: Math.round((Date.now() - w.startedAt) / 1000),
    }));
  }
}

/** What the access log calls a request whose client left before it ran (nginx's 499). */
const CLIENT_GONE = failed('client-gone', 'the client closed the connection while the request waited');

function clientGone(job: Job): boolean {
  return job.res.destroyed || job.res.socket?.destroyed === true;
}

function busy(message: string): Outcome {
  return failed('busy', message);
}

/** A request turned away on arrival: its group's line is full. */
function lineFull(spec: GroupSpec): Outcome {
  return busy(`the queue of ${spec.label} is full (${spec.site.limits.queueLimit} waiting)`);
}

/** A request that waited in line until the queue timeout without a free thread. */
function waitedTooLong(spec: GroupSpec): Outcome {
  return busy(`no free thread in ${spec.label} within the queue timeout (${spec.site.limits.queueTimeout} s)`);
}

/**
 * True when any file differs on disk from what the worker saw (or is gone).
 * Synchronous stats, as in lib/http/resolve.ts: microseconds each on a local disk,
 * and this runs on every request.
 */
function changed(files: WatchedFile[]): boolean {
  for (const f of files) {
    try {
      const s = statSync(f.path, { bigint: true });
      if (String(s.mtimeNs) !== f.mtimeNs || Number(s.size) !== f.size) return true;
    } catch {
      return true;
    }
  }
  return false;
}
