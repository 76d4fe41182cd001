// Load as tenants of a shared host make it: requests by Host with their
// headers (or a client that hangs up), and what the registry says each
// tenant holds.
import { request } from 'node:http';
import type { TenantStatus } from '../lib/groups/registry.js';
import type { RunningServer } from '../server/app.js';

export interface HostAnswer {
  /** 0 when the client hung up first (abortAfterMs). */
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** A GET with this Host header on a connection of its own; abortAfterMs: the client hangs up then, unanswered. */
export function hostRequest(
  s: { port: number },
  host: string,
  target: string,
  opts: { abortAfterMs?: number } = {},
): Promise<HostAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: s.port, path: target, headers: { host }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers as Record<string, string>,
          text: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    if (opts.abortAfterMs !== undefined) {
      const timer = setTimeout(() => req.destroy(), opts.abortAfterMs);
      req.on('response', () => clearTimeout(timer));
      req.on('close', () => resolve({ status: 0, headers: {}, text: '' }));
    }
    req.on('error', (err) => (opts.abortAfterMs === undefined ? reject(err) : undefined));
    req.end();
  });
}

/** Live worker processes of the groups of site `site` (retiring ones too: they are still processes). */
export function liveOf(s: RunningServer, site: string): number {
  return s.groups
    .status()
    .filter((g) => g.site === site)
    .reduce((n, g) => n + g.processes.length, 0);
}

/** What the registry holds for `tenant` (none when it has nothing). */
export function tenantOf(s: RunningServer, tenant: string): TenantStatus {
  return (
    s.groups.tenants().find((t) => t.tenant === tenant) ?? {
      tenant,
      processes: 0,
      requests: 0,
      caps: { workers: 0, requests: 0 },
    }
  );
}

export function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export interface Measured {
  /** Each request's time, in ms. */
  times: number[];
  statuses: number[];
}

/** One request after another to `target` of `host`: `n` of them, or for `forMs`; stops early at one not 200 (starved). */
export async function measure(
  s: { port: number },
  host: string,
  target: string,
  until: { n?: number; forMs?: number },
): Promise<Measured> {
  const m: Measured = { times: [], statuses: [] };
  const end = performance.now() + (until.forMs ?? Number.POSITIVE_INFINITY);
  while (m.times.length < (until.n ?? Number.POSITIVE_INFINITY) && performance.now() < end) {
    const t = performance.now();
    m.statuses.push((await hostRequest(s, host, target)).status);
    m.times.push(performance.now() - t);
    if (m.statuses.at(-1) !== 200) break;
  }
  return m;
}

export interface Flood {
  readonly statuses: number[];
  /** Requests sent so far. */
  readonly sent: number;
  /** Sends no more and resolves once the requests in flight have ended. */
  stop(): Promise<void>;
}

/**
 * `connections` clients, each sending one request after another to its own
 * page (connection c to pages[c % pages.length]), `max` requests in all at
 * most; they start 65 ms apart, so that two on one page (0.5 s a request) are
 * out of step and the page is never idle at once.
 */
export function flood(s: { port: number }, host: string, pages: string[], connections: number, max: number): Flood {
  const state = { statuses: [] as number[], sent: 0, stopped: false };
  const loops = [...Array(connections).keys()].map(async (c) => {
    await new Promise((r) => setTimeout(r, c * 65));
    for (; !state.stopped && state.sent < max; state.sent++) {
      const answer = await hostRequest(s, host, pages[c % pages.length]).catch(() => ({ status: -1 }));
      state.statuses.push(answer.status);
    }
  });
  return {
    statuses: state.statuses,
    get sent() {
      return state.sent;
    },
    async stop() {
      state.stopped = true;
      await Promise.all(loops);
    },
  };
}

/** The `p`th percentile (0-100) of `xs`, nearest rank. */
export function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
