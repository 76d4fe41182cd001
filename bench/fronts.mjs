#!/usr/bin/env node
// How pypages' front scales with processes and cores (issue 16, "a plan for
// many cores"; bench/README.md "Many cores"). Two measurements, one run:
//
// 1. Cores: the real server pinned with taskset to 1 core, then to 2, wrk
//    pinned alongside; req/s and CPU per request of node and python3 each.
// 2. Fronts: the prototype (bench/fronts/cluster-server.mjs), 1 front then
//    2 fronts sharing one listening socket, same load.
//
//   node bench/fronts.mjs [--workloads hello,big] [--duration 8] [--rounds 3]
//
// Rounds alternate the variants so that both see the same machine; medians
// are printed. Binds 127.0.0.1 only; stops what it started, by pid.
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { killAllChildren, runWrk, sampleTree, trackChild, waitForHttp } from './measure.mjs';
import { BENCH_DIR, freePort, makeRunDir, pypagesArgv } from './servers.mjs';
import { WORKLOADS } from './workloads.mjs';

const { values } = parseArgs({
  options: {
    workloads: { type: 'string', default: 'hello,big' },
    duration: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
  },
});
const duration = Number(values.duration);
const last = String(cpus().length - 1);
const VARIANTS = [
  { name: 'server on 1 core', cpus: '0', kind: 'cli' },
  { name: `server on cores 0-${last}`, cpus: `0-${last}`, kind: 'cli' },
  { name: '1 front (prototype)', cpus: `0-${last}`, kind: 'fronts', fronts: 1 },
  { name: '2 fronts (prototype)', cpus: `0-${last}`, kind: 'fronts', fronts: 2 },
];

async function start(variant, run, port) {
  const argv =
    variant.kind === 'cli'
      ? pypagesArgv({ ...run, port, pypagesArgs: [] })
      : [
          join(BENCH_DIR, 'fronts/cluster-server.mjs'),
          '--fronts',
          String(variant.fronts),
          '--port',
          String(port),
          '--root',
          run.docroot,
        ];
  const child = spawn('taskset', ['-c', variant.cpus, process.execPath, ...argv], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  trackChild(child);
  let err = '';
  child.stderr.on('data', (d) => (err = (err + d).slice(-2000)));
  try {
    await waitForHttp(`http://127.0.0.1:${port}/hello.py`, { isAlive: () => child.exitCode === null });
  } catch (e) {
    throw new Error(`${variant.name}: ${e.message}\n${err}`);
  }
  return child;
}

async function measure(variant, workload, run) {
  const port = await freePort();
  const child = await start(variant, run, port);
  const url = `http://127.0.0.1:${port}${WORKLOADS[workload].path}`;
  const load = { url, connections: Number(values.connections), threads: 2 };
  await runWrk({ ...load, duration: 2 }); // warm-up: every front's workers started
  const sampler = sampleTree(child.pid, 250);
  sampler.mark();
  const wrk = await runWrk({ ...load, duration });
  const tree = sampler.stop();
  child.kill('SIGTERM');
  await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
  const perRequest = (comm) =>
    Math.round((1e6 * (tree.cpu.find((c) => c.comm === comm)?.seconds ?? 0)) / Math.max(1, wrk.requests));
  return {
    rps: wrk.rps,
    mbs: (wrk.bytesPerSec ?? 0) / 2 ** 20,
    p50: wrk.p50,
    p99: wrk.p99,
    node: perRequest('node'),
    python: perRequest('python3'),
    other: tree.otherCpuPercent,
    error: wrk.error ?? (wrk.errors ? `${wrk.errors} errors` : undefined),
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const run = makeRunDir();
  const rows = [];
  for (const workload of values.workloads.split(',')) {
    const results = new Map(VARIANTS.map((v) => [v.name, []]));
    for (let round = 0; round < Number(values.rounds); round++)
      for (const v of round % 2 ? [...VARIANTS].reverse() : VARIANTS)
        results.get(v.name).push(await measure(v, workload, run));
    for (const [name, rs] of results) {
      const m = (k) => median(rs.map((r) => r[k] ?? Number.NaN));
      rows.push(
        `| ${workload} | ${name} | ${Math.round(m('rps'))} | ${rs.map((r) => Math.round(r.rps)).join(' / ')} | ${Math.round(m('mbs'))} | ${m('p50')} | ${m('p99')} | ${m('node')} | ${m('python')} | ${Math.round(m('other'))} |`,
      );
      for (const r of rs) if (r.error) console.error(`${workload} ${name}: ${r.error}`);
    }
  }
  console.log(
    "| workload | variant | req/s (median) | rounds | MiB/s | p50 ms | p99 ms | node µs/req | python3 µs/req | others' CPU % |",
  );
  console.log('|---|---|--:|---|--:|--:|--:|--:|--:|--:|');
  for (const row of rows) console.log(row);
}

process.on('SIGINT', () => {
  killAllChildren();
  process.exit(130);
});
main().finally(killAllChildren);
