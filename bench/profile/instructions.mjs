#!/usr/bin/env node
// Node's instructions per request, counted by valgrind's callgrind: the one
// figure about pypages' own work that other people's load does not move. On
// a shared machine req/s and CPU µs swing 2× from one minute to the next
// (cache, preemption, frequency); instructions do not, so a change that
// makes each request do more shows here whatever the machine is doing.
//
//   node bench/profile/instructions.mjs [--workload static] [--requests 1000] [--warm 2000]
//                                       [--connections 8] [--pypages DIR] [--pypages-args "..."]
//
// pypages runs unsupervised (PYPAGES_NO_SUPERVISOR=1) under callgrind with
// instrumentation off; after `--warm` requests it is switched on for exactly
// `--requests` requests (keep-alive, `--connections` at a time), then off.
// Threads are counted apart: thread 1 is the event loop (the request path);
// the others are V8's compiler and garbage collector helpers, whose share
// depends on when a major GC falls (big: every ~20 requests, external memory).
// Python is not counted (its processes run natively). About 50× slower than
// native: 1000 static requests take a minute of one core.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { join, resolve as resolvePath } from 'node:path';
import { parseArgs } from 'node:util';
import { killAllChildren, sleep, trackChild } from '../measure.mjs';
import { freePort, makeRunDir, pypagesArgv, REPO_DIR } from '../servers.mjs';
import { WORKLOADS } from '../workloads.mjs';

const { values } = parseArgs({
  options: {
    workload: { type: 'string', default: 'static' },
    requests: { type: 'string', default: '1000' },
    warm: { type: 'string', default: '2000' },
    connections: { type: 'string', default: '8' },
    pypages: { type: 'string', default: REPO_DIR },
    'pypages-args': { type: 'string', default: '' },
  },
});
const wl = WORKLOADS[values.workload];
if (!wl?.path || wl.lua || wl.headers) {
  console.error(
    `bench/profile/instructions: ${values.workload} is not a plain GET workload (static, hello, big, sleep, flask)`,
  );
  process.exit(2);
}
if (spawnSync('valgrind', ['--version']).status !== 0) {
  console.error('bench/profile/instructions: needs valgrind (apt-get install -y valgrind)');
  process.exit(2);
}
process.on('SIGINT', () => {
  killAllChildren();
  process.exit(130);
});

const { dir, docroot } = makeRunDir();
const port = await freePort();
const out = join(dir, 'callgrind.out');
const ctx = {
  dir,
  docroot,
  port,
  pypagesDir: resolvePath(values.pypages),
  pypagesArgs: splitArgs(values['pypages-args']),
};
const valgrind = ['--tool=callgrind', '--instr-atstart=no', '--smc-check=all-non-file', '--separate-threads=yes'];
const child = trackChild(
  spawn('valgrind', [...valgrind, `--callgrind-out-file=${out}`, process.execPath, ...pypagesArgv(ctx)], {
    cwd: dir,
    env: { ...process.env, PYPAGES_NO_SUPERVISOR: '1' },
    stdio: 'ignore',
    detached: true,
  }),
  { group: true },
);
const exited = new Promise((r) => child.once('exit', r));
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(values.connections) });
try {
  if (!(await waitUntilServing())) throw new Error('pypages did not answer within 5 minutes under valgrind');
  const warmFailed = await load(Number(values.warm));
  execFileSync('callgrind_control', ['-i', 'on', String(child.pid)], { stdio: 'ignore' });
  const failed = await load(Number(values.requests));
  execFileSync('callgrind_control', ['-i', 'off', String(child.pid)], { stdio: 'ignore' });
  agent.destroy();
  process.kill(child.pid, 'SIGTERM');
  await exited;
  if (warmFailed + failed) console.log(`${warmFailed + failed} answers were not 200: the figures count them too`);
  report(Number(values.requests));
} finally {
  killAllChildren();
}

function splitArgs(text) {
  return text.split(/\s+/).filter(Boolean);
}

function get() {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: wl.path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('error', () => resolve(0));
    });
    req.on('error', () => resolve(0));
  });
}

async function waitUntilServing() {
  for (let i = 0; i < 600; i++) {
    if ((await get()) === 200) return true;
    await sleep(500);
  }
  return false;
}

/** `n` requests, `--connections` at a time; how many did not answer 200. */
async function load(n) {
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next++ < n) if ((await get()) !== 200) failed++;
  };
  await Promise.all(Array.from({ length: Number(values.connections) }, worker));
  return failed;
}

/** Instructions per request by thread, from callgrind's per-thread files (out-01 is the main thread). */
function report(n) {
  const files = readdirSync(dir).filter((f) => f.startsWith('callgrind.out-'));
  const perThread = files.map((f) => [f.slice('callgrind.out-'.length), totalOf(join(dir, f)) / n]);
  const main = perThread.find(([t]) => Number(t) === 1)?.[1] ?? 0;
  const helpers = perThread.reduce((sum, [t, ir]) => (Number(t) === 1 ? sum : sum + ir), 0);
  console.log(`pypages ${ctx.pypagesDir}, ${values.workload}: ${n} requests after ${values.warm}`);
  console.log(`instructions per request: main thread ${Math.round(main)}, other threads ${Math.round(helpers)}`);
  const kept = join(dir, 'callgrind.out-01');
  if (existsSync(kept)) console.log(`main thread's functions: callgrind_annotate ${kept} (then remove ${dir})`);
}

function totalOf(file) {
  let total = 0;
  for (const m of readFileSync(file, 'utf8').matchAll(/^(?:totals|summary): (\d+)/gm))
    total = Math.max(total, Number(m[1]));
  return total;
}
