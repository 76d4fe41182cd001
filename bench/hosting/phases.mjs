// The two measurements of the hosting benchmark, for one server each time:
//
// - mix: every script of every user is checked once (right answers, and all
//   of them started), then wrk sends the Zipf mix over the hot users for
//   `seconds` while the prober times first requests to the idle users and
//   the tree's PSS is sampled;
// - once: many scripts (50 users × 20 copies of hello.py) requested once
//   each, a few at a time, with the server's default idle timeout and caps.

import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runWrk, sleep, waitForHttp } from '../measure.mjs';
import { freePort } from '../servers.mjs';
import { samplePss } from './memory.mjs';
import { HOSTING_SERVERS } from './servers.mjs';
import { ask, startProber, target, writeLua, zipfMix } from './traffic.mjs';

/** Starts `server` for `users` in a folder of its own under base/logs; runs `body(handle, baseUrl, dir)`, always stops it. */
async function withServer({ server, base, users, idleTimeout, pypagesDir, tag }, body) {
  const dir = join(base, 'logs', `${server}-${tag}`);
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const port = await freePort();
  const ctx = { dir, base, root: join(base, 'www'), port, users, idleTimeout, pypagesDir };
  const handle = await HOSTING_SERVERS[server].start(ctx);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/`, { isAlive: handle.alive, timeoutMs: 60_000 });
    return await body(handle, url, dir);
  } catch (err) {
    return { failed: err.message.split('\n')[0].slice(0, 300), logTail: logTail(dir) };
  } finally {
    await handle.stop();
  }
}

/** Requests every target, `concurrency` at a time; returns [{ path, ms, error }] in order. */
async function askAll(url, targets, concurrency) {
  const out = new Array(targets.length);
  let next = 0;
  const lane = async () => {
    while (next < targets.length) {
      const i = next++;
      out[i] = { path: targets[i].path, ...(await ask(url, targets[i])) };
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, lane));
  return out;
}

/** The Zipf mix for one server: { rps, p50, p99, errors, cold: {...}, pss: {...}, reaped } or { failed }. */
export function measureMix(server, run, opts) {
  const hot = run.users.slice(0, run.users.length - opts.idleUsers);
  const idle = run.users.slice(hot.length);
  const setup = { ...serverSetup(server, run, opts), idleTimeout: opts.idleTimeout, tag: 'mix' };
  return withServer(setup, async (handle, url, dir) => {
    const checks = await askAll(
      url,
      run.users.flatMap((u) => u.scripts.map((f) => target(u, f))),
      6,
    );
    const wrong = checks.find((c) => c.error);
    if (wrong) throw new Error(`wrong answer to ${wrong.path}: ${wrong.error}`);
    const wrk = (duration) =>
      hot.length
        ? runWrk({ url, duration, connections: opts.connections, threads: opts.threads, script, timeoutSeconds: 30 })
        : sleep(duration * 1000).then(() => ({ requests: 0, rps: 0, errors: 0 }));
    const script = writeLua(dir, zipfMix(hot, opts.zipf));
    if (opts.warmup) await wrk(opts.warmup); // the hot set up again: the check's first scripts are reaped by now
    const sampler = samplePss(handle.pid, opts.sampleMs);
    const probing = { files: opts.probeScripts, idleMs: opts.idleTimeout * 1000, spreadMs: opts.probeSpread * 1000 };
    const prober = idle.length ? startProber(url, idle, probing) : null;
    const load = await wrk(opts.seconds);
    const probes = (await prober?.stop()) ?? [];
    const pss = sampler.stop();
    if (load.error) throw new Error(load.error);
    if (!handle.alive()) throw new Error('the server exited during the load');
    return mixResult(load, checks, probes, pss, dir);
  });
}

function serverSetup(server, run, opts) {
  return { server, base: run.base, users: run.users, pypagesDir: opts.pypagesDir };
}

function mixResult(load, checks, probes, pss, dir) {
  const answered = probes.filter((p) => !p.error);
  return {
    rps: load.rps,
    p50: load.p50,
    p99: load.p99,
    requests: load.requests,
    errors: load.errors,
    errorDetail: load.errors ? `${load.non2xx} non-2xx; socket errors: ${load.socketErrorDetail}` : '',
    checkMs: summarize(checks.map((c) => c.ms)),
    cold: { ...summarize(answered.map((p) => p.ms)), errors: probes.length - answered.length, probes },
    pss,
    reaped: countReaped(dir),
  };
}

/** The many-scripts run for one server: { scripts, seconds, p50, p99, errors, pss } or { failed }. */
export function measureOnce(server, run, opts) {
  const setup = { ...serverSetup(server, run, opts), idleTimeout: 0, tag: 'once' };
  return withServer(setup, async (handle, url) => {
    const targets = run.users.flatMap((u) => u.scripts.map((f) => target(u, f)));
    const sampler = samplePss(handle.pid, opts.sampleMs);
    const started = process.hrtime.bigint();
    const answers = await askAll(url, targets, opts.onceConcurrency);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    await sleep(1000); // let the last workers' memory show
    const pss = sampler.stop();
    const failures = answers.filter((a) => a.error);
    return {
      scripts: targets.length,
      seconds,
      ...summarize(answers.filter((a) => !a.error).map((a) => a.ms)),
      errors: failures.length,
      firstErrors: failures.slice(0, 5).map((f) => `${f.path}: ${f.error}`),
      pss,
    };
  });
}

/** { n, p50, p99, max } of a list of milliseconds (nearest-rank percentiles). */
export function summarize(list) {
  const sorted = list.filter((x) => x !== null).sort((a, b) => a - b);
  const pct = (p) => (sorted.length ? sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] : null);
  return { n: sorted.length, p50: pct(50), p99: pct(99), max: sorted.at(-1) ?? null };
}

/**
 * Idle reaps during the run: groups pypages stopped (its error log, stderr
 * here), daemons mod_wsgi stopped (Apache's error log, wsgi at LogLevel
 * info: process starts and stops, not requests). Embedded Apache has none.
 */
function countReaped(dir) {
  const count = (file, re) => {
    try {
      return readFileSync(join(dir, file), 'utf8').match(re)?.length ?? 0;
    } catch {
      return 0;
    }
  };
  return (
    count('stderr.log', /: idle for \d+ s; stopping its processes/g) +
    count('error.log', /idle inactivity timer expired/g)
  );
}

function logTail(dir) {
  const lines = [];
  for (const name of ['stderr.log', 'error.log']) {
    try {
      const text = readFileSync(join(dir, name), 'utf8').trim();
      if (text) lines.push(`${name}: ${text.split('\n').slice(-8).join('\n  ')}`);
    } catch {}
  }
  return lines.join('\n');
}
