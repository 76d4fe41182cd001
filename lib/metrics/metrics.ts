// Prometheus metrics (prom-client), per site and interpreter group: requests
// by status class, their latency and bytes, requests in flight, each group's
// line and its rejections, worker processes started and ended (and why),
// their memory; plus the process's own (prom-client's default collectors).
// One Metrics per server, kept across reloads: counters never go back.
// Counted as events happen (lib/http/listener.ts, lib/groups/observer.ts);
// what is a level now (queue depth, processes, memory) is read from the
// groups when scraped. Requests no page ran (static files, redirects, error
// pages) carry an empty group label.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Group } from '../groups/group.js';
import type { ExitReason, GroupObserver } from '../groups/observer.js';
import type { GroupStatus } from '../groups/registry.js';

const SG = ['site', 'group'] as const;
/** Seconds; from a static file's tenth of a millisecond to request-timeout's default. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

interface Labels {
  site: string;
  group: string;
}

export class Metrics implements GroupObserver {
  readonly registry = new Registry();
  private readonly labels = new WeakMap<ServerResponse, Labels>();
  private readonly requests = this.counter('requests_total', 'Requests answered, by status class.', [...SG, 'code']);
  private readonly latency = new Histogram({
    name: 'pypages_request_duration_seconds',
    help: 'Time from the arrival of a request to the end of its answer.',
    labelNames: SG,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly bytes = this.counter('response_bytes_total', 'Response body bytes sent.', SG);
  private readonly inflight = this.gauge('requests_in_flight', 'Requests arrived and not yet answered.', ['site']);
  private readonly rejections = this.counter(
    'queue_rejections_total',
    'Requests answered 503 because the line of the group was full or no thread freed up within queue-timeout.',
    SG,
  );
  private readonly starts = this.counter('worker_starts_total', 'Worker processes started.', SG);
  private readonly exits = this.counter('worker_exits_total', 'Worker processes ended, by reason.', [...SG, 'reason']);

  /** `groups()`: the groups now (GroupRegistry.status()), read at each scrape. */
  constructor(groups: () => GroupStatus[]) {
    collectDefaultMetrics({ register: this.registry });
    // Gauges whose names end in _total, which promtool's lint refuses; nodejs_active_handles
    // and nodejs_active_resources (by type) say the same.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
      this.registry.removeSingleMetric(name);
    this.levels(groups);
  }

  /** The text exposition format, and its Content-Type. */
  async scrape(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }

  /** A request of `site` has arrived (its answer is `res`). */
  begin(res: ServerResponse, site: string): void {
    this.labels.set(res, { site, group: '' });
    this.inflight.inc({ site });
  }

  /** The answer `res` to `req` is over (sent, or cut short), `arrived` at ms since the epoch; `bytes` counted by its handler, if it did. */
  end(req: IncomingMessage, res: ServerResponse, arrived: number, bytes: number | null): void {
    const labels = this.labels.get(res);
    if (!labels) return;
    this.inflight.dec({ site: labels.site });
    this.requests.inc({ ...labels, code: `${Math.floor(res.statusCode / 100)}xx` });
    this.latency.observe(labels, (Date.now() - arrived) / 1000);
    const sent = bodyBytes(req, res, bytes);
    if (sent > 0) this.bytes.inc(labels, sent);
  }

  routed(res: ServerResponse, group: Group): void {
    const labels = this.labels.get(res);
    if (labels) labels.group = group.spec.label;
  }

  rejected(group: Group): void {
    this.rejections.inc(labelsOf(group));
  }

  workerStarted(group: Group): void {
    this.starts.inc(labelsOf(group));
  }

  workerExited(group: Group, reason: ExitReason): void {
    this.exits.inc({ ...labelsOf(group), reason });
  }

  /** Gauges read from the groups at each scrape. */
  private levels(groups: () => GroupStatus[]): void {
    const level = (name: string, help: string, of: (g: GroupStatus) => number) =>
      new Gauge({
        name: `pypages_${name}`,
        help,
        labelNames: SG,
        registers: [this.registry],
        collect() {
          this.reset();
          for (const g of groups()) this.set({ site: g.site, group: g.label }, of(g));
        },
      });
    level('group_queue_depth', 'Requests waiting in the line of the group for a free thread.', (g) => g.queued);
    level('group_requests_running', 'Requests running on the workers of the group.', (g) => sum(g, (p) => p.inflight));
    level('group_processes', 'Live worker processes of the group.', (g) => g.processes.length);
    level('group_resident_memory_bytes', 'Resident memory (RSS) of the workers of the group, summed.', (g) =>
      sum(g, (p) => p.rssBytes),
    );
  }

  private counter<T extends string>(name: string, help: string, labelNames: readonly T[]): Counter<T> {
    return new Counter({ name: `pypages_${name}`, help, labelNames, registers: [this.registry] });
  }

  private gauge<T extends string>(name: string, help: string, labelNames: readonly T[]): Gauge<T> {
    return new Gauge({ name: `pypages_${name}`, help, labelNames, registers: [this.registry] });
  }
}

function labelsOf(group: Group): Labels {
  return { site: group.spec.site.name, group: group.spec.label };
}

function sum(g: GroupStatus, f: (p: GroupStatus['processes'][number]) => number): number {
  return g.processes.reduce((n, p) => n + f(p), 0);
}

/** Body bytes of an answer: none for HEAD, 204 and 304; else what the handler counted, or its Content-Length. */
function bodyBytes(req: IncomingMessage, res: ServerResponse, counted: number | null): number {
  if (req.method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304) return 0;
  if (counted !== null) return counted;
  const declared = Number(res.getHeader('content-length'));
  return Number.isFinite(declared) ? declared : 0;
}
