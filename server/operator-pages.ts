// For operators: a health endpoint (on by default), a status page and
// Prometheus metrics (both off by default; when on, only for the addresses
// in status-allow).

import type { Context, Next } from 'koa';
import type { GroupStatus, TenantStatus } from '../lib/groups/registry.js';
import { trustListOf, type ClientView } from '../lib/http/proxy.js';
import type { Metrics } from '../lib/metrics/metrics.js';
import type { Lifecycle } from './lifecycle.js';
import type { Runtime } from './runtime.js';

/** Health, status and metrics pages (Koa middleware); `metrics` is null when metrics-path was off at start. */
export function operatorPages(holder: { runtime: Runtime }, lifecycle: Lifecycle, metrics: Metrics | null = null) {
  return async (ctx: Context, next: Next) => {
    const { config } = holder.runtime;
    if (config.healthPath && ctx.path === config.healthPath) return health(ctx, lifecycle);
    // The client as seen through trusted proxies: behind a local reverse proxy, the socket's peer is always loopback.
    const client = (ctx.state.client as ClientView).remoteAddr;
    const allowed = () => trustListOf(config.statusAllow)(client);
    if (config.statusPath && ctx.path === config.statusPath && allowed()) return status(ctx, holder.runtime, lifecycle);
    if (metrics && config.metricsPath && ctx.path === config.metricsPath && allowed()) return scrape(ctx, metrics);
    await next();
  };
}

async function scrape(ctx: Context, metrics: Metrics): Promise<void> {
  const { body, contentType } = await metrics.scrape();
  ctx.set('Cache-Control', 'no-store');
  ctx.type = contentType;
  ctx.body = body;
}

function health(ctx: Context, lifecycle: Lifecycle): void {
  ctx.status = lifecycle.accepting ? 200 : 503;
  ctx.type = 'text/plain; charset=utf-8';
  ctx.body = lifecycle.accepting ? 'ok\n' : 'shutting down\n';
  ctx.set('Cache-Control', 'no-store');
}

interface StatusReport {
  server: { pid: number; uptimeSeconds: number; accepting: boolean; requestsInFlight: number };
  totals: { groups: number; processes: number; inflight: number; queued: number; served: number; rssBytes: number };
  groups: GroupStatus[];
  /** Each tenant's processes and requests, and its caps (tenant-max-workers, tenant-max-requests; 0: none). */
  tenants: TenantStatus[];
}

function report(runtime: Runtime, lifecycle: Lifecycle): StatusReport {
  const groups = runtime.groups.status();
  const processes = groups.flatMap((g) => g.processes);
  const sum = (f: (p: (typeof processes)[number]) => number) => processes.reduce((n, p) => n + f(p), 0);
  return {
    server: {
      pid: process.pid,
      uptimeSeconds: lifecycle.uptimeSeconds,
      accepting: lifecycle.accepting,
      requestsInFlight: lifecycle.inflight,
    },
    totals: {
      groups: groups.length,
      processes: processes.length,
      inflight: sum((p) => p.inflight),
      queued: groups.reduce((n, g) => n + g.queued, 0),
      served: sum((p) => p.served),
      rssBytes: sum((p) => p.rssBytes),
    },
    groups,
    tenants: runtime.groups.tenants(),
  };
}

function status(ctx: Context, runtime: Runtime, lifecycle: Lifecycle): void {
  const data = report(runtime, lifecycle);
  ctx.set('Cache-Control', 'no-store');
  if ('json' in ctx.query || ctx.accepts('html', 'json') === 'json') {
    ctx.body = data;
    return;
  }
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = html(data);
}

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const mib = (b: number) => (b / 1048576).toFixed(1);

function html(data: StatusReport): string {
  const rows = data.groups.flatMap((g) =>
    g.processes.map(
      (p, i) =>
        `<tr>${i === 0 ? `<td rowspan="${g.processes.length}">${esc(g.label)}<br><small>site ${esc(g.site)}; ${esc(g.python)}; queued ${g.queued}</small></td>` : ''}` +
        `<td>${p.pid}</td><td>${p.state}</td><td>${p.served}</td><td>${p.inflight}</td><td>${mib(p.rssBytes)}</td><td>${p.uptimeSeconds}</td></tr>`,
    ),
  );
  const t = data.totals;
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>pypages status</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}</style></head>
<body><h1>pypages status</h1>
<p>pid ${data.server.pid}, up ${data.server.uptimeSeconds} s, ${data.server.accepting ? 'accepting requests' : 'shutting down'}, ${data.server.requestsInFlight} request(s) in flight.</p>
<p>${t.groups} group(s), ${t.processes} process(es), ${t.inflight} running, ${t.queued} queued, ${t.served} served, ${mib(t.rssBytes)} MiB resident.</p>
<table><tr><th>group</th><th>pid</th><th>state</th><th>served</th><th>in flight</th><th>RSS MiB</th><th>uptime s</th></tr>
${rows.join('\n')}</table><p><a href="?json">JSON</a></p></body></html>
`;
}
