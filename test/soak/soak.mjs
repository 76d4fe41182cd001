#!/usr/bin/env node
// The soak: mixed traffic against pypages in a child process for a while
// (SOAK_SECONDS, default 600), bounded in concurrency and time: pages, echoed
// uploads, big downloads, slow pages, static files, with aborted requests and
// the request corpus's malformed requests sprinkled in. Every ~10 s it samples
// the resident memory and open fds of the server and each of its Python
// processes (/proc); at the end it prints them, the slope per process
// (KiB/min, fds/min), requests by outcome and the errors.
//
// Exit status: 1 if the server died, a valid request was not answered
// correctly, a Python process was orphaned, a request stayed counted in
// flight after the load stopped, or (runs of 2 minutes or more)
// a process's memory or fds grew clearly beyond noise. `npm run soak`;
// test/soak/soak.test.ts runs a 20-second one so this script keeps working.
// SOAK_CONCURRENCY sets the number of clients (16); SOAK_SAMPLES=FILE keeps
// every sample as JSON.

import { Agent, request } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { copyFixtures, crashSummary, startChildServer } from '../harness/child-server.mjs';
import { loadCorpus } from '../harness/corpus.mjs';
import { cutAfterResponseStarts, cutAt } from '../harness/cuts.mjs';
import { exchange } from '../harness/http-wire.mjs';

const BLOB = 300_000;
const REQUEST_TIMEOUT_MS = 30_000;

/** Runs the soak; resolves with its report (see the end of this file for the printed form). */
export async function runSoak({ seconds = 600, concurrency = 16, sampleEveryMs = 10_000, log = console.log } = {}) {
  const server = await startChildServer({ idleTimeout: 0 }, (root) => {
    copyFixtures(root);
    writeFileSync(join(root, 'blob.bin'), Buffer.alloc(BLOB, 7));
  });
  const corpus = loadCorpus();
  const state = { outcomes: new Map(), errors: [], requests: 0, samples: new Map(), labels: new Map() };
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const started = Date.now();
  const deadline = started + seconds * 1000;
  try {
    await sample(server, state, started);
    const sampler = setInterval(() => sample(server, state, started).catch(() => {}), sampleEveryMs);
    await Promise.all(Array.from({ length: concurrency }, () => client(server, state, agent, corpus, deadline)));
    clearInterval(sampler);
    agent.destroy();
    const leftInFlight = await server.waitIdle(10_000);
    await sample(server, state, started);
    const orphans = server.pythons().orphans.map((p) => p.pid);
    return summarize(state, server, { orphans, leftInFlight }, seconds, log);
  } finally {
    await server.stop();
  }
}

/** One client: random actions until the deadline. */
async function client(server, state, agent, corpus, deadline) {
  while (Date.now() < deadline && server.alive) {
    const action = pick(ACTIONS);
    state.requests++;
    try {
      const outcome = await action.run(server, agent, corpus);
      count(state, `${action.name} ${outcome}`);
    } catch (err) {
      count(state, `${action.name} ERROR`);
      if (state.errors.length < 50) state.errors.push(`${action.name}: ${err.message}`);
    }
  }
}

const rand = (n) => Math.floor(Math.random() * n);
const pick = (list) => {
  let r = Math.random() * list.reduce((n, a) => n + a.weight, 0);
  return list.find((a) => (r -= a.weight) < 0) ?? list[0];
};
const count = (state, key) => state.outcomes.set(key, (state.outcomes.get(key) ?? 0) + 1);

/** An HTTP request through the keep-alive agent; rejects unless `check` accepts the answer. */
function call(server, agent, method, path, body, check) {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: server.port, method, path, agent, timeout: REQUEST_TIMEOUT_MS },
      (res) => {
        let length = 0;
        const chunks = [];
        res.on('data', (c) => {
          length += c.length;
          if (chunks.length < 4) chunks.push(c);
        });
        res.on('end', () => {
          const why = check(res.statusCode, length, Buffer.concat(chunks).toString('latin1'));
          if (why) reject(new Error(`${method} ${path}: ${why}`));
          else resolve(String(res.statusCode));
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

const expect200 = (length) => (status, got) =>
  status !== 200 ? `status ${status}` : length !== undefined && got !== length ? `${got} bytes, not ${length}` : null;

const ACTIONS = [
  { name: 'hello', weight: 30, run: (s, a) => call(s, a, 'GET', '/hello.py', undefined, expect200(13)) },
  {
    name: 'upload',
    weight: 14,
    run: (s, a) => {
      const size = rand(256 * 1024);
      return call(s, a, 'POST', '/body_len.py', Buffer.alloc(size, 1), (status, _n, text) =>
        status !== 200 || text !== String(size) ? `status ${status}, "${text}" for ${size} bytes` : null,
      );
    },
  },
  {
    name: 'download',
    weight: 10,
    run: (s, a) => {
      const size = rand(4 << 20);
      return call(s, a, 'GET', `/download.py?size=${size}`, undefined, expect200(size));
    },
  },
  {
    name: 'slow page',
    weight: 8,
    run: (s, a) => call(s, a, 'GET', `/sleepy.py?s=${(0.1 + Math.random() * 0.4).toFixed(2)}`, undefined, expect200(2)),
  },
  {
    name: 'static',
    weight: 12,
    run: (s, a) =>
      rand(2)
        ? call(s, a, 'GET', '/style.css', undefined, expect200(22))
        : call(s, a, 'GET', '/blob.bin', undefined, expect200(BLOB)),
  },
  {
    name: 'abort',
    weight: 8,
    run: async (s) => {
      const body = Buffer.alloc(rand(128 * 1024) + 1, 2);
      const bytes = Buffer.concat([
        Buffer.from(`POST /body_len.py HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${body.length}\r\n\r\n`),
        body,
      ]);
      const how = rand(2) ? 'fin' : 'rst';
      const { outcome } = await cutAt(s.port, bytes, rand(bytes.length), how, { deadlineMs: REQUEST_TIMEOUT_MS });
      const o = await outcome;
      if (o.timedOut) throw new Error('a half-closed, incomplete upload was neither answered nor closed');
      return `${how} ${o.responses.map((r) => r.status).join(' ') || 'closed'}`;
    },
  },
  {
    name: 'abort download',
    weight: 2,
    run: async (s) => {
      const o = await cutAfterResponseStarts(
        s.port,
        Buffer.from('GET /download.py?size=8388608 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'),
        'rst',
      );
      if (o.timedOut) throw new Error('the download never started');
      return o.raw.subarray(0, 12).toString('latin1'); // the status line's start: the cut came after it
    },
  },
  {
    name: 'malformed',
    weight: 6,
    run: async (s, _a, corpus) => {
      const entry = corpus[rand(corpus.length)];
      const r = await exchange(s.port, entry.bytes, {
        fin: true,
        finals: Infinity,
        deadlineMs: REQUEST_TIMEOUT_MS,
        head: entry.head,
      });
      if (r.timedOut) throw new Error(`${entry.name}: neither answered nor closed`);
      return r.responses.map((x) => x.status).join(' ') || 'closed';
    },
  },
];

/** RSS and fds of every process of the server, labelled by its role (and page group). */
async function sample(server, state, started) {
  if (!server.alive) return;
  try {
    for (const g of (await server.status()).groups)
      for (const p of g.processes) state.labels.set(p.pid, `worker ${g.label}`);
  } catch {
    // the status page is best effort here: processes stay labelled by role
  }
  const t = (Date.now() - started) / 60_000;
  for (const p of server.processStats()) {
    if (p.rssKiB === null) continue;
    const label =
      state.labels.get(p.pid) ??
      (p.role === 'node' ? 'node server' : p.role === 'python-direct' ? 'fork server' : 'python');
    if (!state.samples.has(p.pid)) state.samples.set(p.pid, { label, points: [] });
    state.samples.get(p.pid).label = label;
    state.samples.get(p.pid).points.push({ t, rss: p.rssKiB, fds: p.fds });
  }
}

/** Least-squares fit of y over t (minutes): { slope (per minute), se (its standard error) }. */
function lineFit(points, key) {
  const n = points.length;
  const mt = points.reduce((s, p) => s + p.t, 0) / n;
  const my = points.reduce((s, p) => s + p[key], 0) / n;
  const sxx = points.reduce((s, p) => s + (p.t - mt) ** 2, 0);
  if (n < 3 || !sxx) return { slope: 0, se: Infinity };
  const slope = points.reduce((s, p) => s + (p.t - mt) * (p[key] - my), 0) / sxx;
  const residuals = points.reduce((s, p) => s + (p[key] - my - slope * (p.t - mt)) ** 2, 0);
  return { slope, se: Math.sqrt(residuals / (n - 2) / sxx) };
}

/** The samples after the first third of the run: the first third is warm-up (heaps, caches, pools, imports). */
const measured = (points) => points.filter((p) => p.t >= points.at(-1).t / 3);

/**
 * Growth is "clear" when, after the warm-up, the slope is positive beyond
 * noise (over 3 standard errors) and it adds more than `limit` over that time.
 */
function grows(points, key, limit) {
  const m = measured(points);
  if (m.length < 5) return false;
  const { slope, se } = lineFit(m, key);
  return slope > 3 * se && slope * (m.at(-1).t - m[0].t) > limit;
}

function summarize(state, server, { orphans, leftInFlight }, seconds, log) {
  const judged = seconds >= 120;
  const rows = [...state.samples].map(([pid, { label, points }]) => {
    const first = points[0];
    const last = points.at(-1);
    const rssGrows = judged && grows(points, 'rss', 4 * 1024);
    const fdsGrows = judged && grows(points, 'fds', 4);
    const m = measured(points);
    return {
      pid,
      label,
      samples: points.length,
      rssFirst: first.rss,
      rssLast: last.rss,
      rssSlope: lineFit(m, 'rss').slope,
      fdsFirst: first.fds,
      fdsLast: last.fds,
      fdsSlope: lineFit(m, 'fds').slope,
      rssGrows,
      fdsGrows,
    };
  });
  const byOutcome = Object.fromEntries([...state.outcomes].sort());
  const problems = [
    ...server.crashes.map((c) => `the server died: ${crashSummary(c)}`),
    ...(state.errors.length
      ? [`${[...state.outcomes].filter(([k]) => k.endsWith('ERROR')).reduce((n, [, v]) => n + v, 0)} requests failed`]
      : []),
    ...(orphans.length ? [`orphaned Python processes: ${orphans.join(', ')}`] : []),
    ...(leftInFlight > 0 ? [`${leftInFlight} requests still counted in flight 10 s after the load stopped`] : []),
    ...rows
      .filter((r) => r.rssGrows || r.fdsGrows)
      .map(
        (r) => `${r.label} (pid ${r.pid}) grows: ${r.rssSlope.toFixed(0)} KiB/min, ${r.fdsSlope.toFixed(2)} fds/min`,
      ),
  ];
  log(
    `soak: ${seconds} s, ${state.requests} requests, ${server.accessLines} access-log lines, ${server.crashes.length} server deaths`,
  );
  log('  (slopes: least squares over the samples after the first third of the run)');
  log(
    '  pid      process                                    samples  RSS KiB first -> last   KiB/min   fds first -> last  fds/min',
  );
  for (const r of rows) {
    log(
      `  ${String(r.pid).padEnd(8)} ${r.label.slice(0, 42).padEnd(42)} ${String(r.samples).padStart(7)}  ${String(r.rssFirst).padStart(8)} -> ${String(r.rssLast).padEnd(8)} ${r.rssSlope.toFixed(0).padStart(8)}   ${String(r.fdsFirst).padStart(4)} -> ${String(r.fdsLast).padEnd(4)}  ${r.fdsSlope.toFixed(2).padStart(7)}${r.rssGrows || r.fdsGrows ? '  GROWS' : ''}`,
    );
  }
  log('  outcomes:');
  for (const [k, v] of Object.entries(byOutcome)) log(`    ${String(v).padStart(7)}  ${k}`);
  for (const e of state.errors.slice(0, 20)) log(`  error: ${e}`);
  if (!judged) log('  (slopes are not judged in runs under 2 minutes: warm-up dominates)');
  log(problems.length ? `soak: FAILED: ${problems.join('; ')}` : 'soak: OK');
  if (process.env.SOAK_SAMPLES)
    writeFileSync(process.env.SOAK_SAMPLES, JSON.stringify(Object.fromEntries(state.samples)));
  return {
    requests: state.requests,
    outcomes: byOutcome,
    errors: state.errors,
    rows,
    problems,
    deaths: server.crashes.length,
    orphans,
    leftInFlight,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const seconds = Number(process.env.SOAK_SECONDS ?? 600);
  const report = await runSoak({ seconds, concurrency: Number(process.env.SOAK_CONCURRENCY ?? 16) });
  process.exit(report.problems.length ? 1 : 0);
}
