// Measuring tools for the benchmark: wrk (run and parse), the process tree of
// a server (RSS and CPU time from /proc), and a one-shot HTTP request.

import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { cpus } from 'node:os';

const PAGE_SIZE = 4096;
const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux

/** Runs `wrk --latency` and returns its parsed figures (never throws for a failed run: see .error). */
export function runWrk({ url, duration, connections, threads, script, headers = [], timeoutSeconds = 10 }) {
  const args = [
    '-t',
    String(threads),
    '-c',
    String(connections),
    '-d',
    `${duration}s`,
    '--latency',
    '--timeout',
    `${timeoutSeconds}s`,
  ];
  if (script) args.push('-s', script);
  for (const h of headers) args.push('-H', h);
  args.push(url);
  return new Promise((resolve) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    // wrk stops by itself after -d; this only guards against a hung wrk.
    const guard = setTimeout(() => child.kill('SIGKILL'), (duration + timeoutSeconds + 15) * 1000);
    child.on('close', (code) => {
      clearTimeout(guard);
      const parsed = parseWrk(out);
      if (code !== 0 || parsed.requests === undefined)
        parsed.error = `wrk exited ${code}: ${(err || out).trim().slice(0, 300)}`;
      parsed.raw = out;
      resolve(parsed);
    });
  });
}

/** Parses wrk's text output (with --latency). Times in milliseconds. */
export function parseWrk(text) {
  const r = {};
  const dist =
    /Latency Distribution[\s\S]*?50%\s+([\d.]+\w+)[\s\S]*?75%\s+([\d.]+\w+)[\s\S]*?90%\s+([\d.]+\w+)[\s\S]*?99%\s+([\d.]+\w+)/.exec(
      text,
    );
  if (dist) [r.p50, r.p75, r.p90, r.p99] = dist.slice(1, 5).map(toMs);
  const summary = /(\d+) requests in ([\d.]+\w+), ([\d.]+\w+) read/.exec(text);
  if (summary) {
    r.requests = Number(summary[1]);
    r.seconds = toMs(summary[2]) / 1000;
    r.bytesRead = toBytes(summary[3]);
  }
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  if (rps) r.rps = Number(rps[1]);
  const transfer = /Transfer\/sec:\s+([\d.]+\w+)/.exec(text);
  if (transfer) r.bytesPerSec = toBytes(transfer[1]);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  r.socketErrors = sock ? sock.slice(1, 5).reduce((a, b) => a + Number(b), 0) : 0;
  r.socketErrorDetail = sock ? `connect ${sock[1]}, read ${sock[2]}, write ${sock[3]}, timeout ${sock[4]}` : '';
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  r.non2xx = non2xx ? Number(non2xx[1]) : 0;
  r.errors = r.socketErrors + r.non2xx;
  return r;
}

function toMs(s) {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(s);
  if (!m) return NaN;
  const n = Number(m[1]);
  return { us: n / 1000, ms: n, s: n * 1000, m: n * 60_000, h: n * 3_600_000 }[m[2]];
}

function toBytes(s) {
  const m = /^([\d.]+)(B|KB|MB|GB|TB)$/.exec(s);
  if (!m) return NaN;
  return Number(m[1]) * { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 }[m[2]];
}

// ---------------------------------------------------------------------------
// The process tree of a server, from /proc.

/** Every process: pid -> { ppid, comm, rssBytes, cpuTicks }. Processes that vanish mid-scan are skipped. */
export function scanProcesses() {
  const procs = new Map();
  for (const name of readdirSync('/proc')) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue;
    }
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const f = stat.slice(close + 2).split(' '); // f[0] is field 3 (state)
    procs.set(Number(name), {
      ppid: Number(f[1]),
      comm,
      cpuTicks: Number(f[11]) + Number(f[12]), // utime + stime
      rssBytes: Number(f[21]) * PAGE_SIZE,
    });
  }
  return procs;
}

/** The root pid and all its descendants, with their /proc figures. */
export function processTree(rootPid, procs = scanProcesses()) {
  const children = new Map();
  for (const [pid, p] of procs) {
    if (!children.has(p.ppid)) children.set(p.ppid, []);
    children.get(p.ppid).push(pid);
  }
  const tree = [];
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop();
    const p = procs.get(pid);
    if (!p) continue;
    tree.push({ pid, ...p });
    stack.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** Total RSS of a tree in bytes (shared pages count once per process, as `ps` would). */
export function treeRss(tree) {
  return tree.reduce((sum, p) => sum + p.rssBytes, 0);
}

/**
 * Samples a server's process tree every `intervalMs` until stop(): peak RSS,
 * RSS at mark(), and CPU time used by each process between mark() and stop().
 */
export function sampleTree(rootPid, intervalMs = 100) {
  let peak = 0;
  let last = 0;
  let markRss = null;
  let markCpu = null;
  let samples = 0;
  const wrkTicks = new Map(); // wrk processes started by the harness: pid -> CPU ticks last seen
  let machineAtMark = null;
  let selfAtMark = null;
  let wrkAtMark = new Map();
  let markTime = 0n;
  const take = () => {
    const procs = scanProcesses();
    for (const [pid, p] of procs) if (p.ppid === process.pid && p.comm === 'wrk') wrkTicks.set(pid, p.cpuTicks);
    const tree = processTree(rootPid, procs);
    last = treeRss(tree);
    peak = Math.max(peak, last);
    samples++;
    return tree;
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    /** Starts the measured window: RSS now, CPU counters now. */
    mark() {
      const tree = take();
      markRss = last;
      markCpu = new Map(tree.map((p) => [p.pid, p]));
      peak = last;
      machineAtMark = machineBusyTicks();
      selfAtMark = process.cpuUsage();
      wrkAtMark = new Map(wrkTicks);
      markTime = process.hrtime.bigint();
    },
    /** Ends sampling; returns { peakRss, startRss, endRss, rssByProcess (at the end), cpu: [{comm, seconds}], cpuSeconds, samples }. */
    stop() {
      clearInterval(timer);
      const tree = take();
      const cpu = new Map();
      let total = 0;
      for (const p of tree) {
        const before = markCpu?.get(p.pid)?.cpuTicks ?? 0;
        const seconds = (p.cpuTicks - before) / CLOCK_TICKS;
        total += seconds;
        cpu.set(p.comm, (cpu.get(p.comm) ?? 0) + seconds);
      }
      const rss = new Map();
      for (const p of tree) rss.set(p.comm, (rss.get(p.comm) ?? 0) + p.rssBytes);
      // CPU used on this machine by anything but the server, wrk and this harness: other people's work.
      let otherCpuPercent = null;
      if (machineAtMark !== null) {
        const wall = Number(process.hrtime.bigint() - markTime) / 1e9;
        let wrk = 0;
        for (const [pid, ticks] of wrkTicks) wrk += ticks - (wrkAtMark.get(pid) ?? 0);
        const self = process.cpuUsage(selfAtMark);
        const selfTicks = ((self.user + self.system) / 1e6) * CLOCK_TICKS;
        const other = machineBusyTicks() - machineAtMark - total * CLOCK_TICKS - wrk - selfTicks;
        otherCpuPercent = Math.max(0, (100 * other) / (wall * CLOCK_TICKS * cpus().length));
      }
      return {
        otherCpuPercent,
        rssByProcess: [...rss]
          .map(([comm, bytes]) => ({ comm, bytes, count: tree.filter((p) => p.comm === comm).length }))
          .sort((a, b) => b.bytes - a.bytes),
        peakRss: peak,
        startRss: markRss ?? last,
        endRss: last,
        cpuSeconds: total,
        cpu: [...cpu].map(([comm, seconds]) => ({ comm, seconds })).sort((a, b) => b.seconds - a.seconds),
        processes: tree.length,
        samples,
      };
    },
  };
}

/** Busy CPU ticks of the whole machine since boot (all CPUs; idle and iowait excluded). */
export function machineBusyTicks() {
  const f = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f;
  return user + nice + system + irq + softirq + (steal || 0);
}

// ---------------------------------------------------------------------------
// Children of the harness: every one is killed when the harness stops, even on
// Ctrl-C or an uncaught error.

const children = new Set();

/** Remembers a child process so it is killed (with its process group, if it leads one) at exit. */
export function trackChild(child, { group = false } = {}) {
  const entry = { child, group };
  children.add(entry);
  child.once('exit', () => children.delete(entry));
  return child;
}

/** Kills every tracked child now (SIGKILL), synchronously. */
export function killAllChildren() {
  for (const { child, group } of children) {
    try {
      if (group) process.kill(-child.pid, 'SIGKILL');
      else child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
}

// ---------------------------------------------------------------------------

/** One HTTP request: resolves { status, headers, body (Buffer), ms }; rejects on a network error or timeout. */
export function request(url, { method = 'GET', body, headers = {}, timeoutMs = 30_000 } = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = http.request(url, { method, headers: { ...headers, connection: 'close' }, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          headers: res.headers,
          body: Buffer.concat(chunks),
          ms: Number(process.hrtime.bigint() - started) / 1e6,
        }),
      );
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Polls `url` until it answers (any status below 500), or rejects after `timeoutMs`. */
export async function waitForHttp(url, { timeoutMs = 30_000, isAlive = () => true } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error('the server exited before answering');
    try {
      const r = await request(url, { timeoutMs: 2000 });
      if (r.status < 500) return;
      lastError = `HTTP ${r.status}`;
    } catch (err) {
      lastError = err.message;
    }
    await sleep(100);
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s (${lastError})`);
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Load average and CPU count, as `uptime` would say. */
export function loadAverage() {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return '?';
  }
}
