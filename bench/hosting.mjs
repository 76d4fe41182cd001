#!/usr/bin/env node
// The shared-hosting benchmark (issue 16): many users, many small scripts,
// a few hot and a long idle tail, against Apache + mod_wsgi with a daemon per
// user and embedded. See bench/README.md, "Shared hosting".
//
//   node bench/hosting.mjs [--users 30] [--seconds 60] [--servers a,b] ...
//
// Needs root (it creates system users, removed at the end, and the servers
// run each user's code as that user), `npm run build`, wrk, and Debian's
// apache2 + libapache2-mod-wsgi-py3 + python3-flask. Binds 127.0.0.1 only.

import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { parseArgs } from 'node:util';
import { killAllChildren, loadAverage } from './measure.mjs';
import { measureMix, measureOnce } from './hosting/phases.mjs';
import { formatReport } from './hosting/report.mjs';
import { HOSTING_SERVERS, missingRequirements } from './hosting/servers.mjs';
import { SCRIPTS, scriptSources } from './hosting/traffic.mjs';
import { makeBase, makeUsers, removeLeftovers } from './hosting/users.mjs';
import { BENCH_DIR, REPO_DIR } from './servers.mjs';

const ALL = Object.keys(HOSTING_SERVERS);
const HELP = `Usage: node bench/hosting.mjs [options]   (as root)

  --users N            users (default 30); the last --idle-users of them get no wrk traffic, only probes
  --scripts N          scripts per user, the first N of ${Object.keys(SCRIPTS).join(', ')} (default 6)
  --idle-users N       idle users, probed once each after the idle timeout (default 6)
  --seconds S          seconds of load per server (default 60)
  --warmup S           seconds of the same load first, not measured (default 5)
  --idle-timeout S     pypages idle-timeout and mod_wsgi inactivity-timeout (default 5)
  --zipf S             Zipf exponent over users and over each user's scripts (default 1)
  --connections N      wrk connections (default 32); --threads N wrk threads (default 2)
  --servers LIST       of ${ALL.join(', ')} (default all; "none" to skip)
  --probe-scripts LIST scripts the prober asks idle users for (default hello.py)
  --probe-spread S     an idle user is probed 1 to S seconds after its idle timeout has passed (default 10)
  --once-users N, --once-scripts N   the many-scripts run: N users × N copies of hello.py (default 50 × 20)
  --once-concurrency N requests at a time in it (default 4)
  --once-servers LIST  servers for it (default pypages,apache-daemon; "none" to skip)
  --sample-ms N        PSS sampling interval (default 1000)
  --pypages DIR        the pypages checkout to run (default this repository)
  --out DIR            results folder (default bench/results)
  --keep               keep the run folder (configs, logs)
  --remove-leftovers   remove the users and folders of an earlier run that was killed, then exit`;

function options(argv) {
  const spec = {
    users: '30',
    scripts: '6',
    'idle-users': '6',
    seconds: '60',
    'idle-timeout': '5',
    zipf: '1',
    connections: '32',
    threads: '2',
    servers: ALL.join(','),
    'probe-scripts': 'hello.py',
    'once-users': '50',
    'once-scripts': '20',
    'once-concurrency': '4',
    'probe-spread': '10',
    warmup: '5',
    'once-servers': 'pypages,apache-daemon',
    'sample-ms': '1000',
    pypages: REPO_DIR,
    out: join(BENCH_DIR, 'results'),
  };
  const parsed = parseArgs({
    args: argv,
    options: {
      ...Object.fromEntries(Object.entries(spec).map(([k, v]) => [k, { type: 'string', default: v }])),
      keep: { type: 'boolean', default: false },
      'remove-leftovers': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }).values;
  if (parsed.help) exit(0, HELP);
  const num = (name, min, max = Infinity) => {
    const n = Number(parsed[name]);
    if (!(n >= min && n <= max)) exit(2, `bench:hosting: --${name} must be a number from ${min} to ${max}\n\n${HELP}`);
    return n;
  };
  const list = (name, known) => {
    const items =
      parsed[name] === 'none'
        ? []
        : parsed[name]
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
    for (const s of items)
      if (!known.includes(s)) exit(2, `bench:hosting: unknown "${s}" in --${name}; known: ${known.join(', ')}`);
    return items;
  };
  const users = num('users', 1, 1000);
  return {
    users,
    scripts: num('scripts', 1, 6),
    idleUsers: num('idle-users', 0, users),
    seconds: num('seconds', 1, 3600),
    warmup: num('warmup', 0, 600),
    idleTimeout: num('idle-timeout', 1, 3600),
    probeSpread: num('probe-spread', 2, 3600),
    zipf: num('zipf', 0, 10),
    connections: num('connections', 1, 10000),
    threads: num('threads', 1, 64),
    servers: list('servers', ALL),
    probeScripts: list('probe-scripts', Object.keys(SCRIPTS)),
    onceUsers: num('once-users', 1, 1000),
    onceScripts: num('once-scripts', 1, 1000),
    onceConcurrency: num('once-concurrency', 1, 256),
    onceServers: list('once-servers', ALL),
    sampleMs: num('sample-ms', 100, 60000),
    pypagesDir: resolvePath(parsed.pypages),
    out: parsed.out,
    keep: parsed.keep,
    removeLeftovers: parsed['remove-leftovers'],
  };
}

function exit(code, text) {
  (code ? console.error : console.log)(text);
  process.exit(code);
}

function checkRequirements(opts) {
  if (process.getuid?.() !== 0)
    exit(2, 'bench:hosting: run it as root: it creates system users and runs their pages as them');
  const missing = missingRequirements([...opts.servers, ...opts.onceServers]);
  if (spawnSync('sh', ['-c', 'command -v wrk']).status !== 0) missing.push('wrk');
  if (spawnSync('/usr/bin/python3', ['-c', 'import flask']).status !== 0) missing.push('python3-flask');
  if (missing.length) exit(2, `bench:hosting: missing: ${missing.join(', ')} (apt-get install -y …; npm run build)`);
}

function describePypages(dir) {
  const git = (...args) => spawnSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).stdout.trim();
  const dirty = git('status', '--porcelain', '--untracked-files=no', '--', 'lib', 'server') !== '';
  return `${git('rev-parse', '--short', 'HEAD') || dir}${dirty ? ' (lib/ or server/ changed)' : ''}`;
}

/** One phase: users made for it, each server measured in turn, users removed (also on failure). */
async function phase(run, { count, scripts, copies }, servers, measure, opts) {
  const made = makeUsers(run.base, { count, scripts, copies });
  run.cleanups.push(made.remove);
  const results = [];
  try {
    for (const server of servers) {
      if (run.stopping) break;
      console.error(`bench:hosting: ${measure.name} × ${server}…`);
      const result = { server, ...(await measure(server, { base: run.base, users: made.users }, opts)) };
      console.error(`bench:hosting:   ${progress(result)}`);
      results.push(result);
    }
  } finally {
    made.remove();
  }
  return results;
}

function progress(r) {
  if (r.failed) return `FAILED: ${r.failed}${r.logTail ? `\n  ${r.logTail}` : ''}`;
  const mib = (b) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  if (r.scripts)
    return `${r.scripts} scripts in ${r.seconds.toFixed(1)} s, p99 ${r.p99?.toFixed(1)} ms, ${r.errors} errors, PSS ${mib(r.pss.last)}`;
  return `${r.rps?.toFixed(0)} req/s, p99 ${r.p99} ms, ${r.errors} errors, cold p99 ${r.cold.p99?.toFixed(1)} ms (${r.cold.n}), PSS peak ${mib(r.pss.peak)}`;
}

async function main() {
  const opts = options(process.argv.slice(2));
  if (opts.removeLeftovers) exit(0, `bench:hosting: removed ${removeLeftovers().join(', ') || 'nothing'}`);
  checkRequirements(opts);
  const run = { base: makeBase(), cleanups: [], stopping: false };
  const cleanup = () => {
    killAllChildren();
    for (const remove of run.cleanups.splice(0)) remove();
    if (!opts.keep) rmSync(run.base, { recursive: true, force: true });
  };
  process.on('uncaughtException', (err) => {
    console.error(`bench:hosting: ${err.stack}`);
    cleanup();
    process.exit(1);
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'])
    process.on(signal, () => {
      console.error(`\nbench:hosting: ${signal}: stopping the servers, removing the users`);
      cleanup();
      process.exit(130);
    });
  const meta = metaOf(opts);
  console.error(`bench:hosting: run folder ${run.base}; load average ${meta.loadBefore}`);
  try {
    const six = scriptSources(Object.keys(SCRIPTS).slice(0, opts.scripts));
    const mix = opts.servers.length
      ? await phase(run, { count: opts.users, scripts: six }, opts.servers, measureMix, opts)
      : [];
    const hello = scriptSources(['hello.py']);
    const once = opts.onceServers.length
      ? await phase(
          run,
          { count: opts.onceUsers, scripts: hello, copies: opts.onceScripts },
          opts.onceServers,
          measureOnce,
          opts,
        )
      : [];
    meta.loadAfter = loadAverage();
    write(meta, mix, once, opts);
    return mix.concat(once).some((r) => r.failed) ? 1 : 0;
  } finally {
    cleanup();
  }
}

function metaOf(opts) {
  return {
    date: new Date().toISOString(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? '?',
    loadBefore: loadAverage(),
    users: opts.users,
    scriptsPerUser: opts.scripts,
    hotUsers: opts.users - opts.idleUsers,
    idleUsers: opts.idleUsers,
    seconds: opts.seconds,
    warmup: opts.warmup,
    idleTimeout: opts.idleTimeout,
    zipf: opts.zipf,
    connections: opts.connections,
    threads: opts.threads,
    probeScripts: opts.probeScripts,
    probeSpread: opts.probeSpread,
    onceUsers: opts.onceUsers,
    onceScripts: opts.onceScripts,
    onceConcurrency: opts.onceConcurrency,
    pypages: describePypages(opts.pypagesDir),
  };
}

function write(meta, mix, once, opts) {
  const text = formatReport(meta, mix, once);
  process.stdout.write(`\n${text}\n`);
  try {
    mkdirSync(opts.out, { recursive: true });
    const file = join(opts.out, `hosting-${meta.date.replace(/[:.]/g, '-')}`);
    writeFileSync(`${file}.json`, JSON.stringify({ meta, mix, once }, null, 2));
    writeFileSync(`${file}.md`, `${text}\n`);
    console.error(`bench:hosting: results in ${file}.{md,json}`);
  } catch (err) {
    console.error(`bench:hosting: could not write results: ${err.message}`);
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`bench:hosting: ${err.stack}`);
    process.exitCode = 1;
  },
);
