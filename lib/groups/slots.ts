// Room for Python worker processes ("slots"): max-workers over all groups,
// tenant-max-workers over each tenant's, and who gets a slot when they are
// scarce. A group that needs a process and finds no room waits here, and a
// freed slot goes to those waiting in turn by tenant (./turns.ts), not first
// come first served: a tenant flooding the server has many waiting, another
// tenant one, and that one is served next all the same.
//
// Room is made by stopping a process of another group: within a tenant, an
// idle one at once (the least recently used, as max-workers always did);
// another tenant's, idle for TURN_MS, too. Else a process is retired (it
// takes no new requests and ends once its requests in flight have) when the
// waiting tenant keeps fewer processes than the holder's, or, within one
// tenant, the waiting group fewer than the holder group: so the slots end up
// shared evenly. A move that the same rule would undo (one tenant with the
// last slot, another without) waits until the process has had TURN_MS: the
// last slot goes round in turns, not a process start per request.

import type { Worker } from '../worker/worker.js';
import type { Group } from './group.js';
import { TurnQueue } from './turns.js';

/** A turn: the least time a process keeps its slot from one who would have to give it back, and another tenant's idle one after its last request. */
export const TURN_MS = 1000;

export interface SlotRules {
  readonly maxWorkers: number;
  /** tenant-max-workers of `tenant` (0: none). */
  tenantCap(tenant: string): number;
  /** Every group whose processes count: the current ones and those a reload retired. */
  all(): Iterable<Group>;
  /** The groups that may be asked to give up a process (the current ones). */
  current(): Iterable<Group>;
}

interface Waiter {
  readonly group: Group;
  readonly tenant: string;
  grant(): void;
  /** The process stopped to make room for this one: when it ends, its slot is this one's first. */
  promise: Worker | null;
}

/** Processes held, reservations included: in all, by tenant, and those each tenant and group keep (not retiring). */
interface Held {
  total: number;
  tenant: Map<string, number>;
  keeps: Map<string, number>;
  group: Map<Group, number>;
}

export class Slots {
  private readonly waiting = new TurnQueue<Waiter>();
  /** Slots granted that are not yet processes (being started), by group. */
  private readonly reserved = new Map<Group, number>();
  /** When each group's last request ended. */
  private readonly lastEnded = new WeakMap<Group, number>();
  private settling = false;
  private retry: NodeJS.Timeout | null = null;

  constructor(private rules: SlotRules) {}

  /** A reload: new groups, a new max-workers. */
  configure(rules: SlotRules): void {
    this.rules = rules;
    this.settle();
  }

  /** Waits for room for one more process of `group`; false if `deadline` passes first. */
  reserve(group: Group, deadline: number): Promise<boolean> {
    return new Promise((resolve) => {
      const tenant = group.spec.tenant;
      const waiter: Waiter = {
        group,
        tenant,
        promise: null,
        grant: () => {
          clearTimeout(timer);
          this.reserved.set(group, (this.reserved.get(group) ?? 0) + 1);
          resolve(true);
        },
      };
      const timer = setTimeout(() => this.waiting.remove(tenant, waiter) && resolve(false), deadline - Date.now());
      this.waiting.push(tenant, waiter);
      this.settle();
    });
  }

  /** A slot granted to `group` became a process, or will not: it is no longer reserved. */
  unreserve(group: Group): void {
    const n = (this.reserved.get(group) ?? 0) - 1;
    if (n > 0) this.reserved.set(group, n);
    else this.reserved.delete(group);
    this.settle();
  }

  /** A process ended: its slot is free. */
  released(): void {
    this.settle();
  }

  /** A request of `group` ended: a group may have become idle, or a turn may be due. */
  ended(group: Group): void {
    this.lastEnded.set(group, Date.now());
    if (this.waiting.size) this.settle();
  }

  /** Processes of `tenant`, reservations included. */
  heldBy(tenant: string): number {
    return this.held().tenant.get(tenant) ?? 0;
  }

  /**
   * Serves and makes room after the current turn of the event loop: a grow()
   * that unreserves adopts its new process in the same turn, and counting
   * before it would give its slot twice.
   */
  private settle(): void {
    if (this.settling) return;
    this.settling = true;
    queueMicrotask(() => {
      this.settling = false;
      this.dispatch();
      this.makeRoom();
    });
  }

  /** Grants every slot there is room for: first to those a process was stopped for, then in turn by tenant. */
  private dispatch(): void {
    for (;;) {
      const h = this.held();
      const fits = (w: Waiter) => this.fits(w, h);
      const next =
        this.waiting.next((w) => w.promise !== null && !w.promise.alive && fits(w)) ??
        this.waiting.next((w) => w.promise === null && fits(w)) ??
        this.waiting.next(fits);
      if (!next) break;
      this.waiting.serve(...next);
      next[1].grant();
    }
    for (const [, w] of this.waiting.inTurn()) if (w.promise && !w.promise.alive) w.promise = null;
  }

  private fits(w: Waiter, h: Held): boolean {
    const cap = this.rules.tenantCap(w.tenant);
    return h.total < this.rules.maxWorkers && (cap === 0 || (h.tenant.get(w.tenant) ?? 0) < cap);
  }

  /** For each one waiting, in turn, that no stopped process is promised to: stops one if it may. */
  private makeRoom(): void {
    let unserved = false;
    const now = Date.now();
    // Processes that one waiting earlier in turn will have once they have had their turn: not for later ones.
    const spoken = new Set<Worker>();
    for (const [, w] of this.waiting.inTurn()) {
      if (w.promise) continue;
      const h = this.held();
      const victim = this.victimFor(w, h, now, spoken);
      if (!victim) {
        unserved = true;
        continue;
      }
      w.promise = victim.worker;
      victim.group.retire(victim.worker, this.reason(w, h, victim.group.idle), 'evicted');
    }
    // A process whose turn ends, or a share kept for TURN_MS, becomes free to take with no event to tell.
    if (unserved && !this.retry)
      this.retry = setTimeout(() => {
        this.retry = null;
        this.settle();
      }, TURN_MS / 4).unref();
  }

  private reason(w: Waiter, h: Held, idle: boolean): string {
    const cap = this.rules.tenantCap(w.tenant);
    const why =
      cap > 0 && (h.tenant.get(w.tenant) ?? 0) >= cap
        ? `tenant-max-workers ${cap} of ${w.tenant}`
        : `max-workers ${this.rules.maxWorkers}`;
    const who = `${w.group.spec.label} (${w.tenant})`;
    return idle
      ? `stopped to make room for ${who}: ${why}`
      : `stops after its requests in flight: ${who} takes its turn, ${why}`;
  }

  /**
   * The process to stop for `w` now, if any may be: idle ones first (least
   * recently used), then the busiest tenant's. Those it may have only once
   * they have had their turn are added to `spoken`, so that a later one in
   * turn does not take them meanwhile (each gap between two requests of the
   * holder would do).
   */
  private victimFor(w: Waiter, h: Held, now: number, spoken: Set<Worker>): { group: Group; worker: Worker } | null {
    const cap = this.rules.tenantCap(w.tenant);
    // Over its own tenant's cap, only a process of its own tenant makes room.
    const ownOnly = cap > 0 && (h.tenant.get(w.tenant) ?? 0) >= cap;
    let best: { group: Group; worker: Worker; rank: number[] } | null = null;
    const later: Worker[] = [];
    for (const g of this.rules.current()) {
      if (g === w.group || (ownOnly && g.spec.tenant !== w.tenant)) continue;
      const may = this.mayTake(w, g, h, now);
      if (may === 'no') continue;
      const worker = yieldable(g, may === 'after-turn' ? now - TURN_MS : now, spoken);
      if (!worker) later.push(...g.workers.filter((x) => x.alive && !x.retiring && !spoken.has(x)));
      if (!worker) continue;
      const rank = g.idle ? [0, g.lastUsed] : [1, -(h.keeps.get(g.spec.tenant) ?? 0), worker.startedAt];
      if (!best || before(rank, best.rank)) best = { group: g, worker, rank };
    }
    if (!best) for (const x of later) spoken.add(x);
    return best;
  }

  /**
   * Whether `w` may have a process of `g`, by the fair-share rule above: no,
   * yes, or once that process has had its turn. Within a tenant, an idle
   * group gives way at once (least recently used first, as max-workers always
   * did). A move that leaves the holder keeping at least as many as the
   * waiting one then keeps is not undone by the same rule, so it need not
   * wait for a turn: a tenant with none is let in at once by one with two.
   */
  private mayTake(w: Waiter, g: Group, h: Held, now: number): 'no' | 'yes' | 'after-turn' {
    const same = g.spec.tenant === w.tenant;
    if (same && g.idle) return 'yes';
    // Idle for a turn: nobody is using it.
    if (g.idle && now - Math.max(g.lastUsed, this.lastEnded.get(g) ?? 0) >= TURN_MS) return 'yes';
    const [mine, theirs] = same
      ? [h.group.get(w.group) ?? 0, h.group.get(g) ?? 0]
      : [h.keeps.get(w.tenant) ?? 0, h.keeps.get(g.spec.tenant) ?? 0];
    if (mine >= theirs) return 'no';
    return mine + 2 <= theirs ? 'yes' : 'after-turn';
  }

  private held(): Held {
    const h: Held = { total: 0, tenant: new Map(), keeps: new Map(), group: new Map() };
    const add = (g: Group, live: number, kept: number) => {
      const t = g.spec.tenant;
      h.total += live;
      h.tenant.set(t, (h.tenant.get(t) ?? 0) + live);
      h.keeps.set(t, (h.keeps.get(t) ?? 0) + kept);
      h.group.set(g, (h.group.get(g) ?? 0) + kept);
    };
    for (const g of this.rules.all()) add(g, g.workers.length, g.workers.filter((x) => !x.retiring).length);
    for (const [g, n] of this.reserved) add(g, n, n);
    return h;
  }
}

/** A process of `g` that may be stopped: the least loaded started by `startedBy`, not spoken for. */
function yieldable(g: Group, startedBy: number, spoken: Set<Worker>): Worker | null {
  let best: Worker | null = null;
  for (const x of g.workers) {
    if (!x.alive || x.retiring || x.startedAt > startedBy || spoken.has(x)) continue;
    if (!best || x.inflight < best.inflight) best = x;
  }
  return best;
}

/** Lexical order of two ranks: lower first. */
function before(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return false;
}
