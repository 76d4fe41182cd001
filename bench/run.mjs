#!/usr/bin/env node
// pypages against its peers, in one run. See bench/README.md.
//
//   node bench/run.mjs [--duration 10] [--servers a,b] [--workloads a,b] ...
//
// For every workload, for every server: start the server fresh on
// 127.0.0.1, check one answer, warm up, then measure with wrk (bounded by
// --duration) while sampling the server's whole process tree from /proc
// (peak RSS; CPU time per request), and stop it. Prints one table, the
// issue's targets, and writes the results (JSON and Markdown) to --out.

import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { killAllChildren, loadAverage, request, runWrk, sampleTree, sleep, waitForHttp } from './measure.mjs';
import { formatReport } from './report.mjs';
import { BENCH_DIR, freePort, makeRunDir, missingFor, PYTHON, REPO_DIR, SERVERS } from './servers.mjs';
import { WORKLOADS } from './workloads.mjs';

const DEFAULT_SERVERS = [
  'pypages',
  'apache-embedded',
  'apache-daemon',
  'uwsgi',
  'gunicorn',
  'waitress',
  'node-hello',
  'node-static',
];
const APT_PACKAGES = [
  'apache2',
  'libapache2-mod-wsgi-py3',
  'uwsgi',
  'uwsgi-plugin-python3',
  'gunicorn',
  'python3-waitress',
  'python3-flask',
  'wrk',
];

const HELP = `Usage: node bench/run.mjs [options]

Benchmarks pypages against Apache + mod_wsgi (embedded and daemon mode),
uWSGI, gunicorn (gthread) and waitress, plus bare Node ceilings, on 127.0.0.1.
Needs \`npm run build\` first and the Debian packages:
  apt-get install -y ${APT_PACKAGES.join(' ')}

Options:
  --duration S      seconds of measured load per server and workload (default 10)
  --warmup S        seconds of unmeasured load before each (default 2)
  --connections N   wrk connections (default 32)
  --threads N       wrk threads (default 2)
  --servers LIST    comma-separated, or "all" (default ${DEFAULT_SERVERS.join(',')})
  --workloads LIST  comma-separated, or "all" (default ${Object.keys(WORKLOADS).join(',')})
  --cold-count N    never-seen scripts requested by the cold workload (default 8)
  --pypages-args S  extra pypages command-line flags, e.g. "--threads 32"
  --pypages DIR     the pypages checkout to run (its dist/server/cli.js; default this
                    repository): compare a branch or a snapshot with the same harness
  --out DIR         where results go (default bench/results)
  --install         apt-get install the missing packages (as root) instead of asking
  --keep            keep the temporary run folder (configs, logs)
  -h, --help        this text

Quick run: node bench/run.mjs --duration 3 --servers pypages,uwsgi --workloads hello`;

function options(argv) {
  const { values } = parseArgs({
    args: joinPypagesArgs(argv),
    options: {
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      connections: { type: 'string', default: '32' },
      threads: { type: 'string', default: '2' },
      servers: { type: 'string', default: DEFAULT_SERVERS.join(',') },
      workloads: { type: 'string', default: 'all' },
      'cold-count': { type: 'string', default: '8' },
      'pypages-args': { type: 'string', default: '' },
      pypages: { type: 'string', default: REPO_DIR },
      out: { type: 'string', default: join(BENCH_DIR, 'results') },
      install: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const list = (text, all, kind) => {
    const names =
      text === 'all'
        ? all
        : text
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
    for (const n of names) if (!all.includes(n)) usage(`unknown ${kind} "${n}"; known: ${all.join(', ')}`);
    return names;
  };
  const int = (name, min) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min) usage(`--${name} must be an integer ≥ ${min}`);
    return n;
  };
  return {
    duration: int('duration', 1),
    warmup: int('warmup', 0),
    connections: int('connections', 1),
    threads: int('threads', 1),
    coldCount: int('cold-count', 1),
    servers: list(values.servers, Object.keys(SERVERS), 'server'),
    workloads: list(values.workloads, Object.keys(WORKLOADS), 'workload'),
    pypagesArgs: values['pypages-args'].split(/\s+/).filter(Boolean),
    pypagesDir: resolvePath(values.pypages),
    out: values.out,
    install: values.install,
    keep: values.keep,
  };
}

/** `--pypages-args "--threads 32"`: parseArgs refuses a value that starts with a dash unless written with "=". */
export function joinPypagesArgs(argv) {
  const out = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--pypages-args' && i + 1 < argv.length) out.push(`--pypages-args=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

function usage(message) {
  console.error(`bench: ${message}\n\n${HELP}`);
  process.exit(2);
}

/** Checks (or installs) what the chosen servers need; exits with the apt-get line when something is missing. */
function checkRequirements(opts) {
  const missing = new Map();
  for (const name of opts.servers)
    for (const m of missingFor(name)) if (name !== 'pypages') missing.set(m.pkg, `${m.file} (${name})`);
  if (opts.servers.includes('pypages') && !existsSync(join(opts.pypagesDir, 'dist/server/cli.js')))
    missing.set('npm run build', `${opts.pypagesDir}/dist/server/cli.js (pypages)`);
  if (!commandExists('wrk')) missing.set('wrk', 'wrk (the load generator)');
  if (opts.workloads.includes('flask') && spawnSync(PYTHON, ['-c', 'import flask']).status !== 0)
    missing.set('python3-flask', `flask for ${PYTHON}`);
  if (!missing.size) return;
  const build = missing.has('npm run build');
  missing.delete('npm run build');
  const packages = [...missing.keys()];
  if (packages.length && opts.install && process.getuid?.() === 0) {
    console.error(`bench: installing ${packages.join(' ')}`);
    execFileSync('apt-get', ['install', '-y', ...packages], { stdio: 'inherit' });
    if (!build) return;
  }
  console.error('bench: missing requirements:');
  for (const [pkg, what] of missing) console.error(`  ${what}: Debian package ${pkg}`);
  if (packages.length)
    console.error(
      `\nInstall them with:\n  apt-get update && apt-get install -y ${packages.join(' ')}\n(or rerun with --install as root)`,
    );
  if (build) console.error('\npypages is not built: run `npm run build` first.');
  process.exit(2);
}

function commandExists(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** Which pypages was measured: its folder, commit, and whether the working tree had changes. */
function gitDescribe(dir) {
  const git = (...args) => spawnSync('git', ['-C', dir, ...args], { encoding: 'utf8' });
  const head = git('rev-parse', '--short', 'HEAD');
  if (head.status !== 0) {
    // A copy made for a stable run may say what it is in a SNAPSHOT file.
    const note = existsSync(join(dir, 'SNAPSHOT')) ? readFileSync(join(dir, 'SNAPSHOT'), 'utf8').trim() : null;
    return { dir, commit: null, note };
  }
  const dirty = git('status', '--porcelain', '--untracked-files=no', '--', 'lib', 'server').stdout.trim() !== '';
  return { dir, commit: head.stdout.trim(), dirty };
}

function versions() {
  const run = (cmd, args, re = /.*/) => {
    try {
      const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
      const m = re.exec(`${r.stdout}${r.stderr}`);
      return m ? (m[1] ?? m[0]).trim() : '?';
    } catch {
      return '?';
    }
  };
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's --showformat, not a template
  const DPKG_VERSION = '${Version}';
  return {
    node: process.version,
    python: run(PYTHON, ['--version'], /Python (\S+)/),
    apache: run('/usr/sbin/apache2', ['-v'], /Apache\/(\S+)/),
    mod_wsgi: run('dpkg-query', ['-W', '-f', DPKG_VERSION, 'libapache2-mod-wsgi-py3']),
    uwsgi: run('/usr/bin/uwsgi', ['--version']),
    gunicorn: run('/usr/bin/gunicorn', ['--version'], /version (\S+)\)/),
    waitress: run('dpkg-query', ['-W', '-f', DPKG_VERSION, 'python3-waitress']),
    flask: run(PYTHON, ['-c', 'import flask; print(flask.__version__)']),
    wrk: run('wrk', ['-v'], /wrk (\S+)/),
  };
}

async function main() {
  const opts = options(process.argv.slice(2));
  checkRequirements(opts);
  const { dir, docroot } = makeRunDir();
  const startedAt = new Date();
  const meta = {
    date: startedAt.toISOString(),
    host: hostname(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? '?',
    loadBefore: loadAverage(),
    settings: {
      duration: opts.duration,
      warmup: opts.warmup,
      connections: opts.connections,
      wrkThreads: opts.threads,
      coldCount: opts.coldCount,
      pypagesArgs: opts.pypagesArgs.join(' '),
    },
    versions: versions(),
    pypages: gitDescribe(opts.pypagesDir),
    servers: Object.fromEntries(opts.servers.map((s) => [s, SERVERS[s].label])),
  };
  const pairs = [];
  for (const w of opts.workloads)
    for (const s of opts.servers) if (!SERVERS[s].workloads || SERVERS[s].workloads.includes(w)) pairs.push([w, s]);
  const perPair = opts.warmup + opts.duration + 2;
  console.error(
    `bench: ${pairs.length} measurements, about ${Math.ceil((pairs.length * perPair) / 60)} min; run folder ${dir}; load average ${meta.loadBefore}`,
  );

  const results = [];
  let stopping = false;
  const finish = (code) => {
    killAllChildren();
    if (results.length) report(meta, results, opts);
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      console.error(`\nbench: ${signal}: stopping every server`);
      finish(130);
    });
  }
  process.on('uncaughtException', (err) => {
    console.error(`bench: ${err.stack}`);
    finish(1);
  });

  let index = 0;
  for (const [workload, server] of pairs) {
    if (stopping) break;
    index++;
    const result = await measurePair({ workload, server, dir, docroot, opts });
    results.push(result);
    console.error(`[${index}/${pairs.length}] ${progressLine(result)}`);
  }
  meta.loadAfter = loadAverage();
  meta.seconds = Math.round((Date.now() - startedAt.getTime()) / 1000);
  finish(0);
}

async function measurePair({ workload, server, dir, docroot, opts }) {
  const def = SERVERS[server];
  const wl = WORKLOADS[workload];
  const runDir = join(dir, `${server}-${workload}`);
  mkdirSync(runDir, { recursive: true });
  chmodSync(runDir, 0o755);
  const port = await freePort();
  const ctx = { dir: runDir, docroot, port, env: {}, pypagesArgs: opts.pypagesArgs, pypagesDir: opts.pypagesDir };
  const base = `http://127.0.0.1:${port}`;
  const result = { workload, server };
  let handle;
  try {
    const launchedAt = Date.now();
    handle = await def.start(ctx);
    await waitForHttp(base + (def.readyPath ?? '/static/small.txt'), { isAlive: handle.alive });
    result.startupMs = Date.now() - launchedAt;
    const path = def.path ? def.path(workload) : wl.path;
    if (workload === 'cold')
      return Object.assign(result, await measureCold({ base, docroot, server, handle, wl, count: opts.coldCount }));

    const probe = await request(base + path, {
      ...(wl.request ?? {}),
      headers: { ...(wl.request?.headers ?? {}), ...headerObject(wl.headers) },
    });
    const wrong = wl.check(probe, docroot);
    if (wrong) throw new Error(`wrong answer to ${path}: ${wrong}`);

    const sampler = sampleTree(handle.pid);
    const wrkArgs = {
      url: base + path,
      connections: opts.connections,
      threads: opts.threads,
      script: wl.lua?.(runDir),
      headers: wl.headers,
    };
    if (opts.warmup) await runWrk({ ...wrkArgs, duration: opts.warmup });
    sampler.mark();
    const load = await runWrk({ ...wrkArgs, duration: opts.duration });
    const tree = sampler.stop();
    if (load.error) throw new Error(load.error);
    if (!handle.alive()) throw new Error('the server exited during the load');
    Object.assign(result, {
      rps: load.rps,
      mbps: load.bytesPerSec / 1024 ** 2,
      p50: load.p50,
      p90: load.p90,
      p99: load.p99,
      requests: load.requests,
      errors: load.errors,
      errorDetail: load.errors ? `${load.non2xx} non-2xx; socket errors: ${load.socketErrorDetail}` : '',
      peakRss: tree.peakRss,
      startRss: tree.startRss,
      endRss: tree.endRss,
      processes: tree.processes,
      rssByProcess: tree.rssByProcess,
      otherCpuPercent: tree.otherCpuPercent,
      cpuUsPerRequest: load.requests ? (tree.cpuSeconds / load.requests) * 1e6 : null,
      cpuSplit: tree.cpu.map((c) => ({
        comm: c.comm,
        usPerRequest: load.requests ? (c.seconds / load.requests) * 1e6 : null,
      })),
    });
  } catch (err) {
    result.failed = err.message.split('\n')[0].slice(0, 300);
    result.logTail = logTail(runDir);
  } finally {
    if (handle) await handle.stop();
  }
  return result;
}

/** Requests `count` scripts that did not exist when the server started, one after another. */
async function measureCold({ base, docroot, server, handle, wl, count }) {
  const sampler = sampleTree(handle.pid);
  sampler.mark();
  const source = readFileSync(join(docroot, 'hello.py'));
  const times = [];
  for (let i = 0; i < count; i++) {
    const name = `c_${server.replace(/\W/g, '_')}_${i}.py`;
    const file = join(docroot, 'cold', name);
    writeFileSync(file, source);
    chmodSync(file, 0o644);
    const r = await request(`${base}/cold/${name}`);
    const wrong = wl.check(r);
    if (wrong) throw new Error(`wrong answer to /cold/${name}: ${wrong}`);
    times.push(r.ms);
  }
  await sleep(300); // let the last process's memory show
  const tree = sampler.stop();
  const sorted = [...times].sort((a, b) => a - b);
  const pct = (p) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
  return {
    rps: null,
    p50: pct(50),
    p99: pct(99),
    requests: count,
    errors: 0,
    coldTimes: times,
    peakRss: tree.peakRss,
    startRss: tree.startRss,
    endRss: tree.endRss,
    processes: tree.processes,
    rssByProcess: tree.rssByProcess,
  };
}

function headerObject(lines = []) {
  return Object.fromEntries(
    lines.map((h) => [h.slice(0, h.indexOf(':')).trim().toLowerCase(), h.slice(h.indexOf(':') + 1).trim()]),
  );
}

function logTail(runDir) {
  const lines = [];
  for (const name of ['stderr.log', 'error.log', 'uwsgi.log', 'stdout.log']) {
    try {
      const text = readFileSync(join(runDir, name), 'utf8').trim();
      if (text) lines.push(`${name}: ${text.split('\n').slice(-8).join('\n  ')}`);
    } catch {
      // not written by this server
    }
  }
  return lines.join('\n');
}

function progressLine(r) {
  const head = `${r.workload} × ${r.server}:`;
  if (r.failed) return `${head} FAILED: ${r.failed}${r.logTail ? `\n  ${r.logTail}` : ''}`;
  const mib = (b) => (b / 1024 ** 2).toFixed(0);
  if (r.workload === 'cold')
    return `${head} p50 ${r.p50.toFixed(1)} ms, max ${r.p99.toFixed(1)} ms, RSS ${mib(r.peakRss)} MiB`;
  return `${head} ${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, ${r.errors} errors, RSS ${mib(r.peakRss)} MiB, ${r.cpuUsPerRequest?.toFixed(0)} µs CPU/req, others' CPU ${r.otherCpuPercent?.toFixed(0)}%`;
}

function report(meta, results, opts) {
  const text = formatReport(meta, results);
  process.stdout.write(`\n${text}\n`);
  try {
    mkdirSync(opts.out, { recursive: true });
    const stamp = meta.date.replace(/[:.]/g, '-');
    writeFileSync(join(opts.out, `${stamp}.json`), JSON.stringify({ meta, results }, null, 2));
    writeFileSync(join(opts.out, `${stamp}.md`), `${text}\n`);
    console.error(`bench: results in ${join(opts.out, stamp)}.{md,json}`);
  } catch (err) {
    console.error(`bench: could not write results: ${err.message}`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href)
  main().catch((err) => {
    console.error(`bench: ${err.stack}`);
    killAllChildren();
    process.exit(1);
  });
