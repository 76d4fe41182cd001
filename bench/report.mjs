// The benchmark's one table, and the issue's targets checked against it.

import { WORKLOADS } from './workloads.mjs';
import { SERVERS } from './servers.mjs';

const MiB = 1024 ** 2;
const SLEEP_CEILING = 640; // 32 connections / 50 ms

/** Markdown: settings, the table (pypages figures as ratios to the best peer), the targets. */
export function formatReport(meta, results) {
  const out = [];
  out.push(
    `Run of ${meta.date} on ${meta.host} (${meta.cpus} × ${meta.cpuModel}), load average ${meta.loadBefore} before${meta.loadAfter ? `, ${meta.loadAfter} after` : ''}${meta.seconds ? `; ${Math.round(meta.seconds / 60)} min` : ''}.`,
  );
  const s = meta.settings;
  out.push(
    `wrk -t${s.wrkThreads} -c${s.connections} -d${s.duration}s after ${s.warmup}s of warm-up; each server started fresh per workload; cold = ${s.coldCount} never-seen scripts, one after another${s.pypagesArgs ? `; pypages flags: \`${s.pypagesArgs}\`` : ''}.`,
  );
  const pp = meta.pypages;
  if (pp)
    out.push(
      `pypages: ${pp.commit ? `commit ${pp.commit}${pp.dirty ? ' with uncommitted changes in lib/ or server/' : ''}` : (pp.note ?? 'not a git checkout')} (${pp.dir}).`,
    );
  out.push(
    `Versions: ${Object.entries(meta.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
  );
  out.push('');
  out.push(
    "| workload | server | req/s | MB/s | p50 ms | p99 ms | errors | CPU µs/req | peak RSS MiB | others' CPU | pypages ÷ best peer: req/s | p50 | p99 | RSS |",
  );
  out.push('|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
  const order = Object.keys(WORKLOADS);
  const serverOrder = Object.keys(SERVERS);
  const sorted = [...results].sort(
    (a, b) =>
      order.indexOf(a.workload) - order.indexOf(b.workload) ||
      serverOrder.indexOf(a.server) - serverOrder.indexOf(b.server),
  );
  for (const r of sorted) {
    if (r.failed) {
      out.push(`| ${r.workload} | ${r.server} | failed: ${r.failed.replace(/\|/g, '\\|')} | | | | | | | | | | | |`);
      continue;
    }
    const ratio = r.server === 'pypages' ? ratios(r, results) : { rps: '', p50: '', p99: '', rss: '' };
    out.push(
      `| ${r.workload} | ${r.server === 'pypages' ? '**pypages**' : r.server} | ${num(r.rps, 0)} | ${r.rps == null ? '' : num(r.mbps, r.mbps < 10 ? 2 : 0)} | ${num(r.p50, 2)} | ${num(r.p99, 2)} | ${r.errors ?? ''} | ${num(r.cpuUsPerRequest, 0)} | ${num(r.peakRss / MiB, 0)} | ${r.otherCpuPercent == null ? '' : `${r.otherCpuPercent.toFixed(0)}%`} | ${ratio.rps} | ${ratio.p50} | ${ratio.p99} | ${ratio.rss} |`,
    );
  }
  out.push('');
  out.push(
    "cold: p50 and p99 (= the slowest, with few samples) of the first request to each new script; req/s does not apply. CPU µs/req: CPU time of the whole process tree during the measured window ÷ requests. RSS: sum over the server's process tree (shared pages counted in each process), peak of 100 ms samples. Others' CPU: share of the machine's CPU used during the window by processes other than the server, wrk and the harness (other people's work on a shared machine): rows with a high figure are noisy. Ratios: pypages ÷ the best peer among Apache embedded/daemon, uWSGI, gunicorn, waitress (highest req/s, lowest p50/p99/RSS), named after the ratio.",
  );
  const split = results.filter((r) => r.server === 'pypages' && r.cpuSplit?.length);
  if (split.length) {
    out.push('');
    out.push(
      'pypages CPU per request by process: ' +
        split
          .sort((a, b) => order.indexOf(a.workload) - order.indexOf(b.workload))
          .map(
            (r) =>
              `${r.workload} ${r.cpuSplit
                .filter((c) => c.usPerRequest >= 1)
                .map((c) => `${c.comm} ${c.usPerRequest.toFixed(0)} µs`)
                .join(' + ')}`,
          )
          .join('; ') +
        '.',
    );
  }
  const mem = results.filter((r) => r.server === 'pypages' && r.rssByProcess?.length);
  if (mem.length) {
    out.push('');
    out.push(
      'pypages RSS by process at the end of each workload: ' +
        mem
          .sort((a, b) => order.indexOf(a.workload) - order.indexOf(b.workload))
          .map(
            (r) =>
              `${r.workload} ${r.rssByProcess.map((c) => `${c.comm}${c.count > 1 ? ` ×${c.count}` : ''} ${(c.bytes / MiB).toFixed(0)}`).join(' + ')} MiB`,
          )
          .join('; ') +
        '.',
    );
  }
  const errors = results.filter((r) => r.errors);
  if (errors.length)
    out.push('', `Errors: ${errors.map((r) => `${r.workload} × ${r.server}: ${r.errorDetail}`).join('; ')}.`);
  const targets = checkTargets(results);
  if (targets.length) {
    out.push('', '| target (pypages, default settings) | measured | met |', '|---|---|---|');
    for (const t of targets)
      out.push(`| ${t.target} | ${t.measured} | ${t.met === null ? '—' : t.met ? 'yes' : '**no**'} |`);
  }
  return out.join('\n');
}

function num(n, digits) {
  return n == null || Number.isNaN(n) ? '' : n.toFixed(digits);
}

function peersOf(workload, results) {
  return results.filter((r) => r.workload === workload && !r.failed && SERVERS[r.server]?.peer);
}

function ratios(p, results) {
  const peers = peersOf(p.workload, results);
  const pick = (key, better) => {
    const candidates = peers.filter((r) => r[key] != null && !Number.isNaN(r[key]));
    if (!candidates.length || p[key] == null) return '';
    const best = candidates.reduce((a, b) => (better(b[key], a[key]) ? b : a));
    return `${(p[key] / best[key]).toFixed(2)}× ${best.server}`;
  };
  return {
    rps: pick('rps', (a, b) => a > b),
    p50: pick('p50', (a, b) => a < b),
    p99: pick('p99', (a, b) => a < b),
    rss: pick('peakRss', (a, b) => a < b),
  };
}

/** The issue's targets, where this run has the figures to judge them. */
export function checkTargets(results) {
  const get = (workload, server) => results.find((r) => r.workload === workload && r.server === server && !r.failed);
  const targets = [];
  for (const w of ['hello', 'env', 'echo', 'flask']) {
    const p = get(w, 'pypages');
    if (!p) continue;
    for (const [peer, factor] of [
      ['apache-embedded', 1],
      ['apache-daemon', 2],
    ]) {
      const q = get(w, peer);
      if (q)
        targets.push({
          target: `${w}: req/s ≥ ${factor}× ${peer}`,
          measured: `${(p.rps / q.rps).toFixed(2)}× (${p.rps.toFixed(0)} vs ${q.rps.toFixed(0)})`,
          met: p.rps >= factor * q.rps,
        });
    }
  }
  const big = get('big', 'pypages');
  if (big) {
    const u = get('big', 'uwsgi');
    if (u)
      targets.push({
        target: 'big: MB/s ≥ 1.0× uwsgi',
        measured: `${(big.mbps / u.mbps).toFixed(2)}× (${big.mbps.toFixed(0)} vs ${u.mbps.toFixed(0)} MB/s)`,
        met: big.mbps >= u.mbps,
      });
    const growth = (big.peakRss - big.startRss) / MiB;
    targets.push({
      target: 'big: RSS flat (peak − RSS after warm-up ≤ 16 MiB)',
      measured: `${(big.startRss / MiB).toFixed(0)} → peak ${(big.peakRss / MiB).toFixed(0)} MiB (+${growth.toFixed(0)})`,
      met: growth <= 16,
    });
  }
  const sleep = get('sleep', 'pypages');
  if (sleep)
    targets.push({
      target: `sleep: ≥ 0.9 × ${SLEEP_CEILING} req/s`,
      measured: `${sleep.rps.toFixed(0)} req/s = ${(sleep.rps / SLEEP_CEILING).toFixed(2)} × ${SLEEP_CEILING}`,
      met: sleep.rps >= 0.9 * SLEEP_CEILING,
    });
  const st = get('static', 'pypages');
  const ns = get('static', 'node-static');
  if (st && ns)
    targets.push({
      target: 'static: req/s ≥ 0.8× bare Node static',
      measured: `${(st.rps / ns.rps).toFixed(2)}× (${st.rps.toFixed(0)} vs ${ns.rps.toFixed(0)})`,
      met: st.rps >= 0.8 * ns.rps,
    });
  const hello = get('hello', 'pypages');
  if (hello) {
    targets.push({
      target: 'hello: p99 ≤ 2× p50',
      measured: `${hello.p99.toFixed(2)} ms = ${(hello.p99 / hello.p50).toFixed(1)}× ${hello.p50.toFixed(2)} ms`,
      met: hello.p99 <= 2 * hello.p50,
    });
    targets.push({
      target: 'hello: whole-tree RSS ≤ 80 MiB',
      measured: `${(hello.peakRss / MiB).toFixed(0)} MiB`,
      met: hello.peakRss <= 80 * MiB,
    });
    const nh = get('hello', 'node-hello');
    if (nh)
      targets.push({
        target: '(context) hello vs bare Node hello world',
        measured: `${(hello.rps / nh.rps).toFixed(2)}× (${nh.rps.toFixed(0)} req/s)`,
        met: null,
      });
  }
  return targets;
}
