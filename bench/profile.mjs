#!/usr/bin/env node
// Where pypages spends its time on one workload: runs pypages under
// `node --cpu-prof` with every Python worker thread under cProfile
// (bench/profile/python/sitecustomize.py, through PYTHONPATH: nothing in lib/
// changes), loads it with wrk, and prints both profiles' summaries.
//
//   node bench/profile.mjs [--workload hello] [--duration 5] [--pypages-args "..."] [--pypages DIR] [--no-python] [--out DIR]
//   node bench/profile.mjs --alloc [...]   Node's allocations per request instead (no CPU profiles)
//
// Profilers slow the code they watch (cProfile a lot): use the shares, and the
// unprofiled CPU µs per request from bench/run.mjs for absolute figures.

import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { parseArgs } from 'node:util';
import { killAllChildren, processTree, request, runWrk, sampleTree, sleep, waitForHttp } from './measure.mjs';
import { summarise } from './profile/cpuprofile-top.mjs';
import { summariseHeap } from './profile/heapprofile-top.mjs';
import { BENCH_DIR, freePort, makeRunDir, REPO_DIR, SERVERS } from './servers.mjs';
import { WORKLOADS } from './workloads.mjs';
import { joinPypagesArgs } from './run.mjs';

const { values } = parseArgs({
  args: joinPypagesArgs(process.argv.slice(2)),
  options: {
    workload: { type: 'string', default: 'hello' },
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '32' },
    'pypages-args': { type: 'string', default: '' },
    pypages: { type: 'string', default: REPO_DIR },
    'no-python': { type: 'boolean', default: false },
    alloc: { type: 'boolean', default: false },
    out: { type: 'string', default: join(BENCH_DIR, 'results', 'profile') },
    top: { type: 'string', default: '25' },
  },
});
const wl = WORKLOADS[values.workload];
if (!wl?.path) {
  console.error(`bench/profile: unknown or unsupported workload ${values.workload}`);
  process.exit(2);
}
const out = join(values.out, `${values.workload}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
mkdirSync(out, { recursive: true });
chmodSync(out, 0o1777); // started as root, the server child writes its profile as server-user

process.on('SIGINT', () => {
  killAllChildren();
  process.exit(130);
});

const { dir, docroot } = makeRunDir();
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
if (values.alloc) values['no-python'] = true;
const env = values.alloc
  ? { PYPAGES_BENCH_ALLOC: out }
  : values['no-python']
    ? {}
    : { PYTHONPATH: join(BENCH_DIR, 'profile/python'), PYPAGES_BENCH_PYPROF: out };
const nodeArgs = values.alloc
  ? ['--require', join(BENCH_DIR, 'profile/alloc-sampler.cjs')]
  : ['--cpu-prof', '--cpu-prof-dir', out, '--cpu-prof-interval', '250'];
const handle = SERVERS.pypages.start({
  dir,
  docroot,
  port,
  env,
  // A request stuck after its client left (seen on big) would hold a graceful stop for the
  // whole grace period, and SIGKILL loses the Node profile: do not wait for stragglers.
  pypagesArgs: ['--shutdown-grace', '1', ...values['pypages-args'].split(/\s+/).filter(Boolean)],
  pypagesDir: resolvePath(values.pypages),
  nodeArgs,
});
try {
  await waitForHttp(`${base}/static/small.txt`, { isAlive: handle.alive });
  const probe = await request(base + wl.path, { ...(wl.request ?? {}) });
  const wrong = wl.check(probe, docroot);
  if (wrong) throw new Error(`wrong answer: ${wrong}`);
  const wrkArgs = {
    url: base + wl.path,
    connections: Number(values.connections),
    threads: 2,
    script: wl.lua?.(dir),
    headers: wl.headers,
  };
  const warm = await runWrk({ ...wrkArgs, duration: Number(values.warmup) });
  const workers = () => processTree(handle.pid).filter((p) => p.pid !== handle.pid && p.comm.startsWith('python'));
  const signalPython = () => {
    if (!values['no-python']) for (const w of workers()) process.kill(w.pid, 'SIGUSR2');
  };
  signalPython(); // arm: clear the Python profiles
  if (values.alloc) process.kill(handle.pid, 'SIGUSR2'); // start sampling allocations
  const sampler = sampleTree(handle.pid);
  sampler.mark();
  const load = await runWrk({ ...wrkArgs, duration: Number(values.duration) });
  const tree = sampler.stop();
  signalPython(); // dump
  if (values.alloc) process.kill(handle.pid, 'SIGUSR2'); // write node-PID.heapprofile
  await sleep(1500);
  const stopping = Date.now();
  await handle.stop(30_000); // SIGTERM: pypages exits, node writes its .cpuprofile
  const exit = await Promise.race([handle.exit, sleep(10).then(() => null)]);
  if (!exit || exit.signal === 'SIGKILL')
    console.log(`pypages did not exit by itself within ${((Date.now() - stopping) / 1000).toFixed(1)} s of SIGTERM`);
  for (let i = 0; i < 50 && !readdirSync(out).some((f) => f.endsWith('.cpuprofile')); i++) await sleep(100);

  const served = (load.requests ?? 0) + (warm.requests ?? 0) + 1;
  console.log(
    `pypages under profilers, ${values.workload}: ${load.rps?.toFixed(0)} req/s, p50 ${load.p50} ms, p99 ${load.p99} ms, ${load.errors} errors (${load.requests} requests in ${values.duration} s)`,
  );
  console.log(
    `CPU per request in the measured window (profilers included): ${tree.cpu.map((c) => `${c.comm} ${((c.seconds / load.requests) * 1e6).toFixed(0)} µs`).join(', ')}`,
  );
  const cpuprofile = busiest(out, '.cpuprofile', nonIdleTime);
  if (values.alloc) {
    const heap = JSON.parse(readFileSync(join(out, busiest(out, '.heapprofile', allocatedBytes)), 'utf8'));
    console.log(`\n== Node allocations (measured window, ${load.requests} requests; sampled every 512 bytes)\n`);
    console.log(summariseHeap(heap, { top: Number(values.top), requests: load.requests }));
  } else if (cpuprofile) {
    console.log(`\n== Node (${join(out, cpuprofile)}; whole run incl. start-up and warm-up, ${served} requests)\n`);
    console.log(
      summarise(JSON.parse(readFileSync(join(out, cpuprofile), 'utf8')), { top: Number(values.top), requests: served }),
    );
  } else console.log('\nno .cpuprofile was written (did pypages exit normally on SIGTERM?)');
  // The busiest process first (with --launch fork, the idle warm parent is profiled too).
  const texts = readdirSync(out)
    .filter((f) => /^python-\d+\.txt$/.test(f))
    .map((f) => [f, readFileSync(join(out, f), 'utf8')]);
  for (const [f, text] of texts.sort((a, b) => b[1].length - a[1].length)) {
    console.log(
      `\n== Python ${f} (measured window only, ${load.requests} requests; cProfile on each thread's CPU clock)\n`,
    );
    const lines = text.split('\n').filter((l) => !/-thread\d+\.prof$/.test(l));
    console.log(lines.slice(0, 40 + Number(values.top)).join('\n'));
  }
  console.log(`\nprofiles in ${out} (open .cpuprofile in Chrome DevTools; python-*.prof with python3 -m pstats)`);
} catch (err) {
  console.error(`bench/profile: ${err.message}`);
  process.exitCode = 1;
} finally {
  await handle.stop();
  killAllChildren();
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
}

/**
 * The file of `out` ending in `ext` with the most `weight`: the server's.
 * pypages runs under its supervisor (server/supervisor.ts), a second Node
 * process started with the same flags, so it writes a profile too, nearly
 * idle; readdir's order would often pick that one.
 */
function busiest(out, ext, weight) {
  const files = readdirSync(out).filter((f) => f.endsWith(ext));
  const weighed = files.map((f) => [weight(JSON.parse(readFileSync(join(out, f), 'utf8'))), f]);
  return weighed.sort((a, b) => b[0] - a[0])[0]?.[1];
}

/** µs of a .cpuprofile's samples not spent idle. */
function nonIdleTime(profile) {
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  return profile.samples.reduce((sum, id, i) => (idle.has(id) ? sum : sum + (profile.timeDeltas[i] ?? 0)), 0);
}

/** Bytes a .heapprofile's samples stand for. */
function allocatedBytes(profile) {
  return (profile.samples ?? []).reduce((sum, s) => sum + s.size, 0);
}
