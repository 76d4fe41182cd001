// The Prometheus endpoint (metrics-path): off by default, only for
// status-allow, valid for promtool, and counting what known traffic did.
import { spawnSync } from 'node:child_process';
import { copyFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupLoad, startTestServer, waitFor, type TestServer } from '../helpers.js';

type Labels = Record<string, string>;

/** The value of the sample `name` whose labels include `labels`; undefined when there is none. */
function sample(text: string, name: string, labels: Labels = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('metrics', () => {
  let s: TestServer;
  const scrape = async () => (await s.get('/-/metrics')).text();

  beforeAll(async () => {
    s = await startTestServer({ metricsPath: '/-/metrics', maxRequests: 2, requestTimeout: 2 });
    copyFileSync(join(s.root, 'sleepy.py'), join(s.root, 'sleepy2.py'));
  });
  afterAll(() => s.stop());

  it('is valid for promtool, with its Content-Type and the process metrics', async () => {
    await s.get('/hello.py');
    const res = await s.get('/-/metrics');
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_eventloop_lag_seconds')).toBeDefined();
  });

  it('counts requests by site, group and status class, with latency and bytes', async () => {
    const before = await scrape();
    const hello = { site: 'default', group: 'hello.py' };
    const count = (text: string, labels: Labels, name = 'pypages_requests_total') => sample(text, name, labels) ?? 0;
    for (let i = 0; i < 3; i++) expect((await s.get('/hello.py')).status).toBe(200);
    expect((await s.get('/style.css')).status).toBe(200);
    expect((await s.get('/nothing-here')).status).toBe(404);
    const after = await scrape();
    expect(count(after, { ...hello, code: '2xx' }) - count(before, { ...hello, code: '2xx' })).toBe(3);
    expect(count(after, { group: '', code: '4xx' }) - count(before, { group: '', code: '4xx' })).toBe(1);
    expect(count(after, { group: '', code: '2xx' }) - count(before, { group: '', code: '2xx' })).toBeGreaterThanOrEqual(
      1, // the style sheet, and the scrape before this one
    );
    const latency = (t: string) => count(t, hello, 'pypages_request_duration_seconds_count');
    expect(latency(after) - latency(before)).toBe(3);
    expect(count(after, { ...hello, le: '+Inf' }, 'pypages_request_duration_seconds_bucket')).toBe(latency(after));
    const bytes = (t: string) => count(t, hello, 'pypages_response_bytes_total');
    expect(bytes(after) - bytes(before)).toBe(3 * 'Hello, World!'.length);
    expect(sample(after, 'pypages_requests_in_flight', { site: 'default' })).toBe(1); // the scrape itself
  });

  it('shows the groups: processes, memory, starts, and exits by reason (recycle, crash)', async () => {
    // max-requests 2: hello.py's workers are recycled after two requests each.
    const text = await waitFor(async () => {
      const t = await scrape();
      return (sample(t, 'pypages_worker_exits_total', { group: 'hello.py', reason: 'recycle' }) ?? 0) >= 1 && t;
    }, 'a recycled worker');
    expect(sample(text, 'pypages_worker_starts_total', { group: 'hello.py' })).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'pypages_group_processes', { group: 'hello.py' })).toBe(1);
    expect(sample(text, 'pypages_group_resident_memory_bytes', { group: 'hello.py' })).toBeGreaterThan(1024 * 1024);
    expect((await s.get('/exits.py')).status).toBe(502);
    await waitFor(
      async () => sample(await scrape(), 'pypages_worker_exits_total', { group: 'exits.py', reason: 'crash' }) === 1,
      'a crash counted',
    );
  });

  it('counts a worker killed for request-timeout, and one reloaded for its code', async () => {
    expect((await s.get('/sleepy2.py?s=10')).status).toBe(504);
    const reason = async (group: string, why: string) =>
      sample(await scrape(), 'pypages_worker_exits_total', { group, reason: why }) === 1;
    await waitFor(() => reason('sleepy2.py', 'timeout'), 'a timeout counted');
    expect((await s.get('/counter.py')).status).toBe(200);
    const later = new Date(Date.now() + 5000);
    utimesSync(join(s.root, 'counter.py'), later, later);
    expect((await s.get('/counter.py')).status).toBe(200);
    await waitFor(() => reason('counter.py', 'reload'), 'a reload counted');
  });

  it('shows queue depth and running requests, and counts rejections', async () => {
    const q = await startTestServer({ metricsPath: '/-/metrics', threads: 1, queueLimit: 1 });
    try {
      const scrapeQ = async () => (await q.get('/-/metrics')).text();
      const slow = [q.get('/sleepy.py?s=1')];
      await waitFor(() => groupLoad(q, 'sleepy.py').running === 1, 'the slow request running');
      slow.push(q.get('/sleepy.py'));
      await waitFor(() => groupLoad(q, 'sleepy.py').queued === 1, 'one request in line');
      expect((await q.get('/sleepy.py')).status).toBe(503); // the line (1) is full
      const text = await scrapeQ();
      expect(sample(text, 'pypages_queue_rejections_total', { group: 'sleepy.py' })).toBe(1);
      expect(sample(text, 'pypages_group_requests_running', { group: 'sleepy.py' })).toBe(1);
      expect(sample(text, 'pypages_group_queue_depth', { group: 'sleepy.py' })).toBe(1);
      expect(sample(text, 'pypages_requests_total', { group: 'sleepy.py', code: '5xx' })).toBe(1);
      expect((await Promise.all(slow)).map((r) => r.status)).toEqual([200, 200]);
    } finally {
      await q.stop();
    }
  });

  it('is hidden from addresses not in status-allow, and off by default', async () => {
    const other = await startTestServer({ metricsPath: '/-/metrics', statusAllow: ['10.0.0.0/8'] });
    let off: TestServer | undefined;
    try {
      off = await startTestServer({});
      expect((await other.get('/-/metrics')).status).toBe(404);
      expect((await off.get('/-/metrics')).status).toBe(404);
    } finally {
      await Promise.all([other.stop(), off?.stop()]);
    }
  });
});
