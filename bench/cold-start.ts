// Cold start and memory: workers forked from the fork server vs spawned
// afresh, measured side by side in one run (see bench/README.md).
//
//   1. First response of a never-seen hello-world script: from sending the
//      HTTP request to the last byte of the response, for --scripts new
//      scripts per round and --rounds rounds; fork and spawn alternate so
//      both see the same machine load.
//   2. Memory of --groups idle hello-world groups (each served one request):
//      USS per worker (Private_Clean + Private_Dirty of smaps_rollup), and for
//      the whole process tree under this Node process PSS (the honest sum of
//      shared memory) and RSS (which counts shared pages once per process).
//
// --via worker (default) drives the launchers through lib/worker/worker.ts behind a
// tiny node:http server; --via server starts the real server with
// launch: fork|spawn. Linux only (/proc). Binds 127.0.0.1; every process it
// starts is stopped before it exits.

import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeConfig } from '../lib/config/config.js';
import { buildEnviron } from '../lib/http/environ.js';
import { forkingLauncher } from '../lib/worker/launch/fork-launcher.js';
import { findInterpreter } from '../lib/groups/interpreter.js';
import { memoryLogger } from '../lib/util/log.js';
import { Worker } from '../lib/worker/worker.js';
import { spawnWorkerProcess, type Launcher } from '../lib/worker/launch/spawn.js';
import { startPypages } from '../server/app.js';

type Mode = 'fork' | 'spawn';
const MODES: readonly Mode[] = ['fork', 'spawn'];

interface Options {
  via: 'worker' | 'server';
  scripts: number;
  rounds: number;
  groups: number;
}

interface Target {
  url: string;
  close(): Promise<void>;
}

const HELLO = `def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"Hello, world"]
`;

function parseOptions(argv: string[]): Options {
  const opts: Options = { via: 'worker', scripts: 20, rounds: 3, groups: 100 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--via' && (value === 'worker' || value === 'server')) opts.via = value;
    else if (['--scripts', '--rounds', '--groups'].includes(flag) && /^\d+$/.test(value ?? '') && Number(value) > 0) {
      opts[flag.slice(2) as 'scripts' | 'rounds' | 'groups'] = Math.min(Number(value), 1000);
    } else
      throw new Error(
        `usage: cold-start [--via worker|server] [--scripts N] [--rounds N] [--groups N] (bad: ${flag} ${value})`,
      );
  }
  return opts;
}

/** The launchers behind a minimal HTTP front: one worker per script, started on its first request. */
async function workerTarget(mode: Mode, python: string, root: string): Promise<Target> {
  const log = memoryLogger();
  const forking = mode === 'fork' ? forkingLauncher({ sharedPreload: [], log }) : null;
  await forking?.warm(python); // as the server does at start: the first script must not pay for the zygote
  const launch: Launcher = forking?.launch ?? spawnWorkerProcess;
  const workers = new Map<string, Promise<Worker>>();
  const workerFor = (file: string) => {
    let w = workers.get(file);
    if (!w) {
      const opts = {
        python,
        root,
        cwd: root,
        threads: 1,
        processes: 1,
        env: {},
        pythonPath: [],
        preload: [],
        tag: file,
        log,
      };
      w = launch(opts).then((proc) => Worker.start(proc, { tag: file, log }));
      workers.set(file, w);
    }
    return w;
  };
  const server = createServer((req, res) => void serve(req, res, root, workerFor));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    async close() {
      server.close();
      server.closeAllConnections();
      const all = await Promise.all([...workers.values()].map((w) => w.catch(() => null)));
      await Promise.all(
        all.map(
          (w) =>
            w &&
            new Promise((r) => {
              if (!w.alive) return r(null);
              w.once('exit', r);
              w.kill();
            }),
        ),
      );
      await forking?.close();
    },
  };
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  root: string,
  workerFor: (file: string) => Promise<Worker>,
): Promise<void> {
  const name = new URL(req.url ?? '/', 'http://x').pathname;
  const file = join(root, name);
  try {
    const worker = await workerFor(file);
    const s = req.socket;
    const environ = buildEnviron(
      {
        method: req.method ?? 'GET',
        rawUrl: req.url ?? '/',
        httpVersion: req.httpVersion,
        rawHeaders: req.rawHeaders,
        remoteAddress: s.remoteAddress ?? '',
        remotePort: s.remotePort ?? 0,
        localAddress: s.localAddress ?? '',
        localPort: s.localPort ?? 0,
        secure: false,
      },
      { file, scriptName: name, pathInfo: '', root },
    );
    const outcome = await worker.handle({
      script: file,
      environ,
      req,
      res,
      hasBody: false,
      pushBody: false,
      requestId: 'bench',
    });
    if (outcome.kind === 'error' && !res.headersSent) res.writeHead(outcome.status).end(outcome.message);
  } catch (err) {
    if (!res.headersSent) res.writeHead(500).end((err as Error).message);
  }
}

/** The real server with launch: fork|spawn, no idle reaping, room for every group. */
async function serverTarget(mode: Mode, root: string): Promise<Target> {
  const config = makeConfig({
    root,
    port: 0,
    host: '127.0.0.1',
    launch: mode,
    idleTimeout: 0,
    maxWorkers: 10_000,
    allowRootPages: true,
  });
  const running = await startPypages(config, { log: memoryLogger() });
  return { url: running.url, close: () => running.close() };
}

/** Milliseconds from sending the request to the last byte of a 200 response. */
async function timeRequest(url: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(url);
  const body = await res.text();
  const elapsed = performance.now() - started;
  if (res.status !== 200 || body !== 'Hello, world') throw new Error(`${url}: ${res.status} ${body.slice(0, 200)}`);
  return elapsed;
}

function newScript(root: string, name: string): string {
  writeFileSync(join(root, name), HELLO);
  return name;
}

/** Latency samples per mode, fork and spawn taking turns going first. */
async function measureLatency(
  targets: Record<Mode, Target>,
  root: string,
  opts: Options,
): Promise<Record<Mode, number[][]>> {
  const samples: Record<Mode, number[][]> = { fork: [], spawn: [] };
  for (const mode of MODES) await timeRequest(targets[mode].url + newScript(root, `warmup_${mode}.py`));
  for (let round = 0; round < opts.rounds; round++) {
    for (const mode of MODES) samples[mode].push([]);
    for (let i = 0; i < opts.scripts; i++) {
      const order = i % 2 ? [...MODES].reverse() : MODES;
      for (const mode of order) {
        const url = targets[mode].url + newScript(root, `first_${mode}_${round}_${i}.py`);
        samples[mode][round].push(await timeRequest(url));
      }
    }
  }
  return samples;
}

interface Memory {
  workers: number;
  zygotes: number;
  ussPerWorker: number[];
  ussTotal: number;
  pssTotal: number;
  rssTotal: number;
}

/** Starts `groups` hello-world groups on a fresh target, one request each, then reads /proc. */
async function measureMemory(
  makeTarget: () => Promise<Target>,
  root: string,
  mode: Mode,
  groups: number,
): Promise<Memory> {
  const target = await makeTarget();
  try {
    for (let i = 0; i < groups; i++) await timeRequest(target.url + newScript(root, `idle_${mode}_${i}.py`));
    await new Promise((r) => setTimeout(r, 1000)); // idle: let the last responses' buffers be released
    return snapshotTree();
  } finally {
    await target.close();
  }
}

function snapshotTree(): Memory {
  const children = childrenByParent();
  const tree = descendants(process.pid, children);
  // Forked workers keep the zygote's command line: the zygote is the one Node started.
  const zygotes = (children.get(process.pid) ?? []).filter((pid) => cmdline(pid).includes('pypages_worker.forkserver'));
  const m: Memory = {
    workers: tree.length - zygotes.length,
    zygotes: zygotes.length,
    ussPerWorker: [],
    ussTotal: 0,
    pssTotal: 0,
    rssTotal: 0,
  };
  for (const pid of tree) {
    const s = smapsRollup(pid);
    if (!zygotes.includes(pid)) m.ussPerWorker.push(s.uss);
    m.ussTotal += s.uss;
    m.pssTotal += s.pss;
    m.rssTotal += s.rss;
  }
  return m;
}

/** Each process's children, from the ppid field of /proc/PID/stat. */
function childrenByParent(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

function descendants(root: number, children: Map<number, number[]>): number[] {
  const out: number[] = [];
  for (let queue = [root]; queue.length; ) {
    const kids = children.get(queue.shift()!) ?? [];
    out.push(...kids);
    queue.push(...kids);
  }
  return out;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** Rss, Pss and USS (Private_Clean + Private_Dirty) of one process, in KiB. */
function smapsRollup(pid: number): { rss: number; pss: number; uss: number } {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  return { rss: field('Rss'), pss: field('Pss'), uss: field('Private_Clean') + field('Private_Dirty') };
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const ms = (n: number) => `${n.toFixed(1)} ms`.padStart(9);
const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`.padStart(10);

function reportLatency(samples: Record<Mode, number[][]>, opts: Options): void {
  console.log(`\nFirst response of a never-seen hello-world script (${opts.rounds} rounds x ${opts.scripts} scripts)`);
  console.log('mode     median      p90      min      max   median of each round');
  for (const mode of MODES) {
    const all = samples[mode].flat();
    const rounds = samples[mode].map((r) => quantile(r, 0.5).toFixed(1)).join(' / ');
    console.log(
      `${mode.padEnd(5)}${ms(quantile(all, 0.5))}${ms(quantile(all, 0.9))}${ms(Math.min(...all))}${ms(Math.max(...all))}   ${rounds}`,
    );
  }
  const fork = quantile(samples.fork.flat(), 0.5);
  console.log(`target: fork median <= 25 ms: ${fork <= 25 ? 'met' : 'NOT met'} (${fork.toFixed(1)} ms)`);
}

function reportMemory(memory: Record<Mode, Memory>, groups: number): void {
  console.log(`\nMemory of ${groups} idle hello-world groups (each served one request)`);
  console.log('mode   processes    USS/worker (median)   USS total   PSS whole tree   RSS sum');
  for (const mode of MODES) {
    const m = memory[mode];
    const procs = `${m.workers}${m.zygotes ? ` + ${m.zygotes} zygote` : ''}`;
    console.log(
      `${mode.padEnd(6)} ${procs.padEnd(15)} ${mib(quantile(m.ussPerWorker, 0.5))}            ${mib(m.ussTotal)}   ${mib(m.pssTotal)}     ${mib(m.rssTotal)}`,
    );
  }
  const uss = quantile(memory.fork.ussPerWorker, 0.5) / 1024;
  const ratio = memory.fork.pssTotal / memory.spawn.pssTotal;
  console.log(`target: fork USS per worker <= 4 MiB: ${uss <= 4 ? 'met' : 'NOT met'} (${uss.toFixed(2)} MiB)`);
  console.log(
    `target: fork whole tree (PSS) <= 1/3 of spawn: ${ratio <= 1 / 3 ? 'met' : 'NOT met'} (${ratio.toFixed(3)})`,
  );
  if (!memory.fork.zygotes)
    console.log('WARNING: no fork server ran: launch "fork" is not wired into this server, both rows are spawn');
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  if (process.platform !== 'linux') throw new Error('this benchmark reads /proc: Linux only');
  const python = (await findInterpreter('')).path;
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'pypages-bench-')));
  const makeTarget = (mode: Mode) =>
    opts.via === 'worker' ? workerTarget(mode, python, root) : serverTarget(mode, root);
  console.log(
    `pypages cold-start bench, via ${opts.via}: ${new Date().toISOString()}, ${cpus().length} x ${cpus()[0]?.model ?? '?'}, Node ${process.version}, ${python}`,
  );
  try {
    const targets = { fork: await makeTarget('fork'), spawn: await makeTarget('spawn') };
    let samples: Record<Mode, number[][]>;
    try {
      samples = await measureLatency(targets, root, opts);
    } finally {
      await Promise.all(MODES.map((m) => targets[m].close()));
    }
    reportLatency(samples, opts);
    const memory = {
      fork: await measureMemory(() => makeTarget('fork'), root, 'fork', opts.groups),
      spawn: await measureMemory(() => makeTarget('spawn'), root, 'spawn', opts.groups),
    };
    reportMemory(memory, opts.groups);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
