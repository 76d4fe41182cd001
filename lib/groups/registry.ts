// Which interpreter group runs a script: the groups of every site (two sites
// never share one), the caps on live Python processes across all of them and
// on each tenant's (max-workers, tenant-max-workers: ./slots.ts, which also
// decides whose turn a freed process is), the cap on a tenant's requests
// (tenant-max-requests), and what is known about scripts that are not pages.
// The only way requests reach a worker. The periodic sweep is ./watchdog.ts.

import { statSync } from 'node:fs';
import { folderEnvKey, type Site, type Sites } from '../site/site.js';
import type { Logger } from '../util/log.js';
import type { Job } from '../worker/exchange.js';
import { withRunAs } from '../worker/job.js';
import type { Launcher } from '../worker/launch/spawn.js';
import { failed, type Outcome } from '../worker/outcome.js';
import { Group, type GroupContext, type ProcessStatus } from './group.js';
import { exitReasonOf, markExit, type GroupObserver } from './observer.js';
import { Slots } from './slots.js';
import { groupSpecFor, preloadTargets } from './spec.js';
import { CapTable, RequestCounts, type TenantCaps } from './tenants.js';
import { Watchdog } from './watchdog.js';

export interface RegistryOptions {
  sites: Sites;
  /** Cap on live worker processes, all sites together. */
  maxWorkers: number;
  launcher: Launcher;
  log: Logger;
  /** Told of workers started and ended, requests turned away (metrics). */
  observer?: GroupObserver;
  /** A site's own logger (its error-log: page output, tracebacks); `log` when absent. */
  logFor?: (site: Site) => Logger;
}

export interface GroupStatus {
  /** The name of the group's site. */
  site: string;
  /** Its tenant: user:NAME when its workers run as a user, else site:NAME. */
  tenant: string;
  key: string;
  label: string;
  python: string;
  processes: ProcessStatus[];
  queued: number;
  idleSeconds: number;
}

export interface TenantStatus {
  tenant: string;
  /** Live worker processes, and those being started. */
  processes: number;
  /** Requests running or waiting. */
  requests: number;
  caps: TenantCaps;
}

interface Preload {
  site: Site;
  script: string;
}

export class GroupRegistry {
  /** By site name and group key (site.name NUL spec.key). */
  private groups = new Map<string, Group>();
  /** Site name and script → its group's key in `groups`. */
  private readonly specCache = new Map<string, string>();
  // script → its signature when a worker found no `application` in its source
  // (not "not callable": that verdict ran the module and may change with another file).
  /** Scripts found not to be pages: their file signature then, and the answer (its reason and hint). */
  private readonly notPages = new Map<string, { signature: string; outcome: Outcome }>();
  private readonly pages = new Set<string>(); // scripts that have answered as pages
  private readonly caps = new CapTable();
  private readonly requests = new RequestCounts();
  private readonly slots: Slots;
  private closed = false;
  private readonly watchdog: Watchdog;
  private ctx!: GroupContext;
  private preloads: Preload[] = [];
  /** Groups replaced by a reload, finishing their requests. */
  private readonly retired = new Set<Group>();

  constructor(private opts: RegistryOptions) {
    this.slots = new Slots(this.slotRules(opts.maxWorkers));
    this.configure(opts);
    this.watchdog = new Watchdog(() => this.allGroups(), opts.log);
  }

  private configure(opts: RegistryOptions): void {
    this.opts = opts;
    this.preloads = opts.sites.all.flatMap((site) => preloadTargets(site).map((script) => ({ site, script })));
    this.ctx = {
      launcher: opts.launcher,
      log: opts.log,
      reserve: (group, deadline) => this.slots.reserve(group, deadline),
      unreserve: (group) => this.slots.unreserve(group),
      released: (group, worker) => {
        opts.observer?.workerExited(group, exitReasonOf(worker));
        this.slots.released();
      },
      preloadFor: (group) => this.preloads.filter((p) => this.groupOf(p.site, p.script) === group).map((p) => p.script),
      // Already counted in its tenant's requests when it first arrived: not counted (nor refused) again.
      redispatch: (site, job) => this.runIn(this.groupOf(this.sameSite(site), job.script), job, null),
      observer: opts.observer,
    };
  }

  /**
   * SIGHUP: new groups from the new sites take every request from now on;
   * the old groups finish what they run, then stop. No request is refused.
   */
  async reconfigure(opts: RegistryOptions): Promise<void> {
    const old = [...this.groups.values()];
    this.groups = new Map();
    this.specCache.clear();
    this.notPages.clear(); // a new python-path or env may change what a module is
    this.pages.clear();
    this.caps.clear(); // made anew from the new groups; requests counted stay counted until they end
    this.configure(opts);
    this.slots.configure(this.slotRules(opts.maxWorkers));
    for (const g of old) this.retired.add(g);
    await this.warmUp();
    await Promise.all(old.map((g) => g.close().finally(() => this.retired.delete(g))));
  }

  /** Runs a script request of `site` in its group. Never rejects. */
  async run(site: Site, job: Job): Promise<Outcome> {
    if (this.closed) return failed('busy', 'the server is shutting down');
    // A module already found not to be a page stays a 404 until it changes, without asking a worker.
    // (Known pages skip the stat: that is most requests.)
    const known = this.notPages.get(job.script);
    const before = known !== undefined || !this.pages.has(job.script) ? fileSignature(job.script) : null;
    if (known !== undefined && before === known.signature) return known.outcome;
    const group = this.groupOf(site, job.script);
    const { tenant } = group.spec;
    const cap = this.caps.of(tenant).requests;
    if (!this.requests.enter(tenant, cap)) {
      this.opts.observer?.rejected(group);
      return tenantBusy(tenant, cap);
    }
    try {
      return await this.runIn(group, job, before);
    } finally {
      this.requests.leave(tenant); // every way a request ends comes through here: no count leaks
      this.slots.ended(group);
    }
  }

  /** Runs `job` in `group`; `before` is its script's signature if taken on arrival. */
  private async runIn(group: Group, job: Job, before: string | null): Promise<Outcome> {
    this.opts.observer?.routed(job.res, group);
    const outcome = await group.run(withRunAs(job, group.spec.identity));
    if (outcome.kind === 'error' && outcome.errorKind === 'busy') this.opts.observer?.rejected(group);
    if (outcome.kind === 'done') this.pages.add(job.script);
    if (outcome.kind === 'error' && outcome.errorKind === 'not-page') {
      const signature = before ?? fileSignature(job.script);
      if (signature !== null) this.notPages.set(job.script, { signature, outcome });
    }
    return outcome;
  }

  /** Imports the preload scripts now, so their first request is fast; failures are logged. */
  async warmUp(): Promise<void> {
    const groups = new Set(this.preloads.map((p) => this.groupOf(p.site, p.script)));
    await Promise.all(
      [...groups].map((g) =>
        g.warm().catch((err) => this.opts.log.error(`preload of ${g.spec.label} failed: ${(err as Error).message}`)),
      ),
    );
  }

  private groupOf(site: Site, script: string): Group {
    const cached = this.specCache.get(`${site.name}\0${script}${folderEnvKey(site)}`);
    if (cached !== undefined) return this.groups.get(cached)!;
    const spec = groupSpecFor(script, site);
    const key = `${site.name}\0${spec.key}`;
    this.specCache.set(`${site.name}\0${script}${folderEnvKey(site)}`, key);
    let group = this.groups.get(key);
    if (!group) {
      this.groups.set(key, (group = new Group(spec, { ...this.ctx, log: this.opts.logFor?.(site) ?? this.opts.log })));
      this.caps.note(spec);
    }
    return group;
  }

  /** The files the workers running `script` of `site` imported (their WATCH lists); none when no worker runs it. */
  watchedBy(site: Site, script: string): string[] {
    const key = this.specCache.get(`${site.name}\0${script}${folderEnvKey(site)}`);
    const group = key === undefined ? undefined : this.groups.get(key);
    return group ? group.workers.flatMap((w) => w.watched.map((f) => f.path)) : [];
  }

  /** The site of the current config with the name of `site` (of an older one, after a reload); the fallback if it is gone. */
  private sameSite(site: Site): Site {
    const { all, fallback, siteFor } = this.opts.sites;
    return all.find((s) => s.name === site.name) ?? (site.prefix ? siteFor(undefined, site.prefix) : null) ?? fallback;
  }

  private allGroups(): Group[] {
    return [...this.groups.values(), ...this.retired];
  }

  get liveProcesses(): number {
    return this.allGroups().reduce((n, g) => n + g.workers.length, 0);
  }

  private slotRules(maxWorkers: number): ConstructorParameters<typeof Slots>[0] {
    return {
      maxWorkers,
      tenantCap: (tenant) => this.caps.of(tenant).workers,
      all: () => this.allGroups(),
      current: () => this.groups.values(),
    };
  }

  /** Each tenant with processes or requests: how many, and its caps (0: none). */
  tenants(): TenantStatus[] {
    const names = new Set([...this.allGroups()].map((g) => g.spec.tenant));
    for (const [tenant] of this.requests.all()) names.add(tenant);
    return [...names].map((tenant) => ({
      tenant,
      processes: this.slots.heldBy(tenant),
      requests: this.requests.of(tenant),
      caps: this.caps.of(tenant),
    }));
  }

  status(): GroupStatus[] {
    const now = Date.now();
    return [...this.groups.values()]
      .filter((g) => g.workers.length > 0 || g.queueDepth > 0)
      .map((g) => ({
        site: g.spec.site.name,
        tenant: g.spec.tenant,
        key: g.spec.key,
        label: g.spec.label,
        python: g.spec.python,
        processes: g.status(),
        queued: g.queueDepth,
        idleSeconds: Math.round((now - g.lastUsed) / 1000),
      }));
  }

  /** Every request in flight on any worker. */
  get inflight(): number {
    return this.allGroups().reduce((n, g) => n + g.inflight, 0);
  }

  /** Stops taking requests and lets every worker finish what it runs, then stop. */
  async drain(): Promise<void> {
    this.closed = true;
    this.watchdog.stop();
    await Promise.all(this.allGroups().map((g) => g.drain(null, 'shutdown')));
  }

  /** Stops every worker now (in-flight requests fail as crashed). */
  async close(): Promise<void> {
    this.closed = true;
    this.watchdog.stop();
    const exits: Promise<unknown>[] = [];
    for (const g of this.allGroups()) {
      for (const w of g.workers) {
        exits.push(new Promise((r) => w.once('exit', r)));
        markExit(w, 'shutdown');
        w.kill();
      }
    }
    await Promise.all(exits);
  }
}

/**
 * A request turned away because its tenant is at tenant-max-requests: 503
 * with Retry-After, like every busy answer (lib/http/page-error.ts). CloudLinux
 * answers its entry-process cap 508 (Loop Detected, a WebDAV code that says
 * nothing of load, and that clients and proxies do not retry); 503 with
 * Retry-After is the standard HTTP way to say "overloaded, come back", which
 * caches, crawlers and load balancers already honour.
 */
function tenantBusy(tenant: string, cap: number): Outcome {
  return failed('busy', `tenant ${tenant} is at tenant-max-requests (${cap} running or waiting)`);
}

/** mtime and size, enough to tell that a file changed; null if it is gone. */
function fileSignature(file: string): string | null {
  const s = statSync(file, { bigint: true, throwIfNoEntry: false });
  return s ? `${s.mtimeNs}:${s.size}` : null;
}
