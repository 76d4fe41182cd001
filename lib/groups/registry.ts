// All interpreter groups: which group runs a script, the global cap on live
// Python processes (evicting the least recently used idle group), and the
// periodic sweep that enforces request timeouts, heartbeats, memory limits
// and idle stops. The only way requests reach a worker.

import { statSync } from 'node:fs';
import type { Config } from '../config/config.js';
import type { Job } from '../worker/exchange.js';
import { failed, type Outcome } from '../worker/outcome.js';
import { Group, type GroupContext, type ProcessStatus } from './group.js';
import { groupSpecFor, preloadTargets } from './spec.js';
import type { Logger } from '../util/log.js';
import type { Launcher } from '../worker/launch/spawn.js';

export interface GroupManagerOptions {
  config: Config;
  interpreter: string; // the checked default Python
  launcher: Launcher;
  log: Logger;
}

export interface GroupStatus {
  key: string;
  label: string;
  python: string;
  processes: ProcessStatus[];
  queued: number;
  idleSeconds: number;
}

const SWEEP_MS = 100;
const SLOW_SWEEP_EVERY = 10; // heartbeat, memory and idle checks: every second

export class GroupManager {
  private groups = new Map<string, Group>();
  private readonly specCache = new Map<string, string>(); // script → group key
  // script → its signature when a worker found no `application` in its source
  // (not "not callable": that verdict ran the module and may change with another file).
  private readonly notPages = new Map<string, string>();
  private readonly pages = new Set<string>(); // scripts that have answered as pages
  private reservations = 0;
  private slotWaiters: (() => void)[] = [];
  private closed = false;
  private sweeps = 0;
  private readonly timer: NodeJS.Timeout;
  private ctx!: GroupContext;
  private preloads: string[] = [];
  /** Groups replaced by a reload, finishing their requests. */
  private readonly retired = new Set<Group>();

  constructor(private opts: GroupManagerOptions) {
    this.configure(opts);
    this.timer = setInterval(() => this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  private configure(opts: GroupManagerOptions): void {
    const { config } = opts;
    this.opts = opts;
    this.preloads = preloadTargets(config);
    this.ctx = {
      launcher: opts.launcher, log: opts.log, root: config.root,
      queueLimit: config.queueLimit, queueTimeoutMs: config.queueTimeout * 1000,
      maxRequests: config.maxRequests, maxRequestsJitter: config.maxRequestsJitter,
      reserve: (group, deadline) => this.reserve(group, deadline),
      unreserve: () => this.unreserve(),
      released: () => this.wakeSlots(),
      preloadFor: (group) => this.preloads.filter((script) => this.groupOf(script) === group),
      redispatch: (job) => this.run(job),
    };
  }

  /**
   * SIGHUP: new groups from the new config take every request from now on;
   * the old groups finish what they run, then stop. No request is refused.
   */
  async reconfigure(opts: GroupManagerOptions): Promise<void> {
    const old = [...this.groups.values()];
    this.groups = new Map();
    this.specCache.clear();
    this.notPages.clear(); // a new python-path or env may change what a module is
    this.pages.clear();
    this.configure(opts);
    for (const g of old) this.retired.add(g);
    await this.warmUp();
    await Promise.all(old.map((g) => g.close().finally(() => this.retired.delete(g))));
  }

  /** Runs a script request in its group. Never rejects. */
  async run(job: Job): Promise<Outcome> {
    if (this.closed) return failed('busy', 'the server is shutting down');
    // A module already found not to be a page stays a 404 until it changes, without asking a worker.
    // (Known pages skip the stat: that is most requests.)
    const known = this.notPages.get(job.script);
    const before = known !== undefined || !this.pages.has(job.script) ? fileSignature(job.script) : null;
    if (known !== undefined && before === known) return NOT_A_PAGE;
    const outcome = await this.groupOf(job.script).run(job);
    if (outcome.kind === 'done') this.pages.add(job.script);
    if (outcome.kind === 'error' && outcome.errorKind === 'not-page') {
      const signature = before ?? fileSignature(job.script);
      if (signature !== null) this.notPages.set(job.script, signature);
    }
    return outcome;
  }

  /** Imports the preload scripts now, so their first request is fast; failures are logged. */
  async warmUp(): Promise<void> {
    const groups = new Set(this.preloads.map((script) => this.groupOf(script)));
    await Promise.all([...groups].map((g) => g.warm().catch((err) => this.opts.log.error(`preload of ${g.spec.label} failed: ${(err as Error).message}`))));
  }

  private groupOf(script: string): Group {
    const key = this.specCache.get(script);
    if (key !== undefined) return this.groups.get(key)!;
    const spec = groupSpecFor(script, this.opts.config, this.opts.interpreter);
    this.specCache.set(script, spec.key);
    let group = this.groups.get(spec.key);
    if (!group) this.groups.set(spec.key, (group = new Group(spec, this.ctx)));
    return group;
  }

  private allGroups(): Group[] {
    return [...this.groups.values(), ...this.retired];
  }

  get liveProcesses(): number {
    return this.allGroups().reduce((n, g) => n + g.workers.length, 0);
  }

  /** Room for one more process under max-workers: evicts the least recently used idle group if needed. */
  private async reserve(requester: Group, deadline: number): Promise<boolean> {
    while (this.liveProcesses + this.reservations >= this.opts.config.maxWorkers) {
      const victim = this.leastRecentlyUsedIdle(requester);
      if (victim) {
        await victim.drain(`stopped to make room for ${requester.spec.label} (max-workers ${this.opts.config.maxWorkers})`);
        continue;
      }
      if (!(await this.waitForSlot(deadline))) return false;
    }
    this.reservations++;
    return true;
  }

  private unreserve(): void {
    this.reservations--;
    this.wakeSlots();
  }

  private leastRecentlyUsedIdle(except: Group): Group | null {
    let best: Group | null = null;
    for (const g of this.groups.values()) {
      if (g === except || !g.idle || g.workers.length === 0 || g.workers.some((w) => w.retiring)) continue;
      if (!best || g.lastUsed < best.lastUsed) best = g;
    }
    return best;
  }

  private waitForSlot(deadline: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
      this.slotWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private wakeSlots(): void {
    for (const wake of this.slotWaiters.splice(0)) wake();
  }

  private sweep(): void {
    const now = Date.now();
    const slow = ++this.sweeps % SLOW_SWEEP_EVERY === 0;
    for (const group of this.allGroups()) {
      this.enforceTimeouts(group, now);
      if (!slow) continue;
      this.heartbeat(group, now);
      this.enforceMemory(group);
      this.stopIfIdle(group, now);
    }
  }

  /** request-timeout: 504 for the request, stacks to the log, the worker replaced. */
  private enforceTimeouts(group: Group, now: number): void {
    const limitMs = this.opts.config.requestTimeout * 1000;
    if (limitMs === 0) return;
    for (const worker of group.workers) {
      for (const exchange of worker.inFlight()) {
        if (exchange.isTimedOut || exchange.activeMs(now) <= limitMs) continue;
        this.opts.log.error(`request ${exchange.requestId}: ${group.spec.label} ran longer than request-timeout (${limitMs / 1000} s): 504`);
        exchange.timedOut(limitMs);
        worker.dumpStacksAndKill(`request ${exchange.requestId} timed out`);
      }
    }
  }

  private heartbeat(group: Group, now: number): void {
    const timeoutMs = this.opts.config.heartbeatTimeout * 1000;
    if (timeoutMs === 0) return;
    for (const worker of group.workers) {
      if (now - worker.lastPong > timeoutMs) worker.dumpStacksAndKill(`no heartbeat for ${Math.round((now - worker.lastPong) / 1000)} s`);
      else if (now - worker.lastPong >= timeoutMs / 3) worker.ping();
    }
  }

  private enforceMemory(group: Group): void {
    const limit = this.opts.config.maxMemory;
    if (limit === 0) return;
    for (const worker of group.workers) {
      const rss = worker.rss();
      if (rss > limit && !worker.retiring) group.retire(worker, `RSS ${mib(rss)} over max-memory ${mib(limit)}; recycling`);
    }
  }

  private stopIfIdle(group: Group, now: number): void {
    const idleMs = this.opts.config.idleTimeout * 1000;
    if (idleMs === 0 || !group.idle || group.workers.length === 0 || now - group.lastUsed < idleMs) return;
    void group.drain(`idle for ${Math.round((now - group.lastUsed) / 1000)} s; stopping its processes`);
  }

  status(): GroupStatus[] {
    const now = Date.now();
    return [...this.groups.values()]
      .filter((g) => g.workers.length > 0 || g.queueDepth > 0)
      .map((g) => ({ key: g.spec.key, label: g.spec.label, python: g.spec.python, processes: g.status(), queued: g.queueDepth, idleSeconds: Math.round((now - g.lastUsed) / 1000) }));
  }

  /** Every request in flight on any worker. */
  get inflight(): number {
    return this.allGroups().reduce((n, g) => n + g.inflight, 0);
  }

  /** Stops taking requests and lets every worker finish what it runs, then stop. */
  async drain(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await Promise.all(this.allGroups().map((g) => g.drain(null)));
  }

  /** Stops every worker now (in-flight requests fail as crashed). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    const exits: Promise<unknown>[] = [];
    for (const g of this.allGroups()) {
      for (const w of g.workers) {
        exits.push(new Promise((r) => w.once('exit', r)));
        w.kill();
      }
    }
    await Promise.all(exits);
  }
}

const NOT_A_PAGE = failed('not-page', 'not a page (no callable application)');

/** mtime and size, enough to tell that a file changed; null if it is gone. */
function fileSignature(file: string): string | null {
  const s = statSync(file, { bigint: true, throwIfNoEntry: false });
  return s ? `${s.mtimeNs}:${s.size}` : null;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
