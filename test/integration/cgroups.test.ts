// Tenant cgroups on the machine's real cgroup filesystem (issue 13): a
// process started through enterCommand lands in its tenant's cgroups, and
// the kernel holds the tenant to its caps: a fork loop stops at the pids
// cap, an allocation past the memory cap dies while a process outside is
// untouched, a CPU cap stretches a busy loop's wall time; close() leaves no
// folder. Needs root (the cgroup folders are root's); every process started
// here is killed by pid, and every folder removed, even when a test fails.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cgroups, enterCommand, type TenantCaps, tenantFolder } from '../../lib/tenant/cgroups.js';
import { memoryLogger } from '../../lib/util/log.js';
import { waitFor } from '../helpers.js';
import { isRoot } from '../tenant-users.js';

const PYTHON = '/usr/bin/python3';
const NO_CAPS: TenantCaps = { memory: 0, cpuPercent: 0, pids: 0 };

// Forks up to 50 children that sleep (at most 30 s), counting the forks the kernel allows.
const FORK_LOOP = `import os, time
made = 0
for _ in range(50):
    try:
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        made += 1
    except OSError:
        pass
print(made, flush=True)
time.sleep(30)`;

// Takes up to 300 MB in 10 MB steps that touch every page, saying how far it got.
const ALLOCATE = `chunks = []
for step in range(1, 31):
    chunks.append(b'x' * (10 << 20))
    print(step * 10, flush=True)`;

// Spins until it has used 1 s of CPU (or 30 s of wall time), then prints the wall time it took.
const SPIN = `import time
start = time.monotonic()
while time.process_time() < 1.0 and time.monotonic() - start < 30:
    pass
print(round(time.monotonic() - start, 2), flush=True)`;

interface Run {
  readonly child: ChildProcess;
  readonly out: string[];
  readonly err: string[];
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started: ChildProcess[] = [];

/** `command args` started inside the cgroups of `files` (none: outside), its output gathered by line. */
function launch(files: string[], command: string, args: string[]): Run {
  const line = enterCommand(files, command, args);
  const child = spawn(line.command, line.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  const gather = (stream: NodeJS.ReadableStream, into: string[]) =>
    stream.on('data', (d: Buffer) => into.push(...d.toString().split('\n').filter(Boolean)));
  const out: string[] = [];
  const err: string[] = [];
  gather(child.stdout!, out);
  gather(child.stderr!, err);
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, out, err, done };
}

/** Whether a pid is a live process (not gone, not a zombie). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function killQuietly(pid: number | undefined): void {
  try {
    if (pid) process.kill(pid, 'SIGKILL');
  } catch {} // gone already
}

/** The version this machine should give: v2 where the unified hierarchy holds the memory controller. */
function expectedVersion(): number {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
  const unified = /^\S+ \S+ \S+ \S+ (\S+) .* - cgroup2 /m.exec(mounts)?.[1];
  const controllers = unified ? readFileSync(path.join(unified, 'cgroup.controllers'), 'utf8') : '';
  return /\bmemory\b/.test(controllers) ? 2 : 1;
}

describe.skipIf(!isRoot)('tenant cgroups on the real cgroup filesystem (needs root; skipped when not root)', () => {
  const log = memoryLogger();
  const name = `pypages-test-${process.pid}-${Date.now().toString(36)}`;
  const tenants = new Set<string>();
  let cgroups: Cgroups;

  beforeAll(() => {
    const found = Cgroups.detect({ log, name });
    if (!found) throw new Error('no usable cgroups on this machine');
    cgroups = found;
  });

  afterAll(() => {
    for (const child of started) if (child.exitCode === null && child.signalCode === null) killQuietly(child.pid);
    for (const tenant of tenants) for (const pid of cgroups?.pids(tenant) ?? []) killQuietly(pid);
    cgroups?.close();
  });

  /** The cgroup.procs files of a tenant with `caps`, entered by `launch`. */
  function enter(tenant: string, caps: TenantCaps): string[] {
    tenants.add(tenant);
    const files = cgroups.enter(tenant, caps);
    expect(log.errors).toEqual([]);
    expect(files.length).toBeGreaterThan(0);
    return files;
  }

  it('detect() finds the cgroups this machine offers, with memory, cpu and pids', () => {
    expect(cgroups.describe).toBe(`cgroup v${expectedVersion()} (memory, cpu, pids)`);
  });

  it('a process started through enterCommand is in each of its tenant cgroups', async () => {
    const files = enter('user:enter', NO_CAPS);
    const run = launch(files, '/bin/sh', ['-c', 'echo ready; exec sleep 30']);
    await waitFor(() => run.out.includes('ready'), 'the entered process', 10_000);
    const suffix = `/${name}/${tenantFolder('user:enter')}`;
    const lines = readFileSync(`/proc/${run.child.pid}/cgroup`, 'utf8').split('\n');
    expect(lines.filter((l) => l.endsWith(suffix))).toHaveLength(files.length);
    expect(cgroups.pids('user:enter')).toEqual([run.child.pid]);
    killQuietly(run.child.pid);
    await run.done;
  });

  it('the pids cap 8 stops a fork loop of 50, and pids() finds every process to kill', async () => {
    const files = enter('user:forker', { ...NO_CAPS, pids: 8 });
    const run = launch(files, PYTHON, ['-c', FORK_LOOP]);
    const made = Number(await waitFor(() => run.out[0], 'the fork count', 20_000));
    const inside = cgroups.pids('user:forker');
    console.info(`pids cap 8: the loop forked ${made} of 50; ${inside.length} processes in the cgroup`);
    expect(made).toBeGreaterThan(0);
    expect(made).toBeLessThan(8);
    expect(inside.length).toBeLessThanOrEqual(8);
    for (const pid of inside) killQuietly(pid);
    await waitFor(() => cgroups.pids('user:forker').length === 0, 'the forked processes to die', 10_000);
    await run.done;
  });

  it('the memory cap 64M stops a process taking 300 MB; one outside the cgroup takes it', async () => {
    const files = enter('user:hog', { ...NO_CAPS, memory: 64 << 20 });
    const hog = launch(files, PYTHON, ['-c', ALLOCATE]);
    const outside = launch([], PYTHON, ['-c', ALLOCATE]);
    const [hogEnd, outsideEnd] = await Promise.all([hog.done, outside.done]);
    const reached = Number(hog.out.at(-1) ?? 0);
    const how = hogEnd.signal ? `killed by ${hogEnd.signal}` : `exit ${hogEnd.code}: ${hog.err.at(-1)}`;
    console.info(
      `memory cap 64M: the capped process reached ${reached} MB, ${how}; outside reached ${outside.out.at(-1)} MB`,
    );
    expect(hogEnd.signal === 'SIGKILL' || /MemoryError/.test(hog.err.join('\n'))).toBe(true);
    expect(reached).toBeLessThan(64);
    expect(outsideEnd).toEqual({ code: 0, signal: null });
    expect(outside.out.at(-1)).toBe('300');
  });

  it('the cpu cap 20% stretches 1 s of CPU to several seconds of wall time', async () => {
    const free = launch([], PYTHON, ['-c', SPIN]);
    await free.done;
    const files = enter('user:spinner', { ...NO_CAPS, cpuPercent: 20 });
    const capped = launch(files, PYTHON, ['-c', SPIN]);
    expect(await capped.done).toEqual({ code: 0, signal: null });
    const [freeWall, cappedWall] = [Number(free.out[0]), Number(capped.out[0])];
    const throttled = files
      .map((f) => path.join(path.dirname(f), 'cpu.stat'))
      .filter((f) => existsSync(f))
      .map((f) => Number(/^nr_throttled (\d+)/m.exec(readFileSync(f, 'utf8'))?.[1] ?? 0))
      .reduce((a, b) => a + b, 0);
    console.info(
      `cpu cap 20%: 1 s of CPU took ${cappedWall} s of wall time capped (throttled in ${throttled} periods), ` +
        `${freeWall} s uncapped (load average ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]})`,
    );
    expect(cappedWall).toBeGreaterThan(3); // 1 s at 20% is 5 s; a generous bound for a busy machine
    expect(throttled).toBeGreaterThan(10); // the kernel, not a busy machine, made it slow
  });

  it('a new server removes the folders of one that is gone, killing what its pages left there, and only those', async () => {
    const gone = spawnSync('/bin/true').pid!; // a pid no process has any more
    const living = Cgroups.detect({ log, name: `pypages-${process.pid}-77` });
    const crashed = Cgroups.detect({ log, name: `pypages-${gone}-0` }); // (a server does not sweep itself)
    if (!crashed || !living) throw new Error('no usable cgroups');
    const files = crashed.enter('user:left', { memory: 0, cpuPercent: 0, pids: 0 });
    expect(files.length).toBeGreaterThan(0);
    const run = launch(files, '/bin/sh', ['-c', 'sleep 30 & echo ready; wait']);
    await waitFor(() => run.out.includes('ready'), 'the leftover to start', 10_000);
    const sweepLog = memoryLogger();
    const next = Cgroups.detect({ log: sweepLog, name: `${name}-next` });
    expect((await run.done).signal).toBe('SIGKILL');
    const crashedFolders = files.map((f) => path.dirname(path.dirname(f)));
    expect(crashedFolders.filter((f) => existsSync(f))).toEqual([]);
    expect(living.pids('user:none')).toEqual([]);
    expect(existsSync(path.join(path.dirname(crashedFolders[0]), `pypages-${process.pid}-77`))).toBe(true);
    next?.close();
    living.close();
  });

  it('close() kills what is left in the cgroups and leaves no folder', async () => {
    const own = Cgroups.detect({ log, name: `${name}-close` });
    if (!own) throw new Error('no usable cgroups');
    const files = own.enter('site:left', { memory: 64 << 20, cpuPercent: 50, pids: 8 });
    const run = launch(files, '/bin/sh', ['-c', 'sleep 30 & sleep 30 & echo ready; wait']);
    await waitFor(() => run.out.includes('ready'), 'the processes to start', 10_000);
    const left = own.pids('site:left');
    expect(left).toHaveLength(3);
    own.close();
    expect((await run.done).signal).toBe('SIGKILL');
    await waitFor(() => !left.some(alive), 'the left processes to die', 5000);
    const folders = files.flatMap((f) => [path.dirname(f), path.dirname(path.dirname(f))]);
    expect(folders.filter((f) => existsSync(f))).toEqual([]);
    expect(log.errors).toEqual([]);
  });
});
