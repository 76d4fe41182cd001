// How a worker process comes to be. A WorkerProcess is whatever Node needs
// from one: its pid, a frame stream each way, and its end. spawnWorkerProcess
// starts a fresh interpreter; a fork server (lib/worker/launch/forkserver.ts) can hand out
// the same shape from a warm parent.

import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { onLines } from '../../util/lines.js';
import { pageOutput } from '../../util/page-output.js';
import type { Logger } from '../../util/log.js';
import { pythonPackageDir } from '../../util/paths.js';
import type { RunAs } from '../../tenant/identity.js';
import type { TenantCaps } from '../../tenant/cgroups.js';
import { baseEnvironment } from '../../tenant/launch-line.js';
import type { PythonProcess } from '../../tenant/root-side.js';
import { tenantPackageDir } from '../../tenant/worker-package.js';
import { failedProcess } from './root-client.js';
import { startPython } from './start-python.js';

export interface LaunchOptions {
  python: string; // interpreter path
  root: string; // document root (realpath)
  cwd: string; // working directory of the process
  threads: number; // requests it may run at once
  processes: number; // how many processes its group has (wsgi.multiprocess)
  env: Record<string, string>; // extra environment variables
  pythonPath: readonly string[]; // extra import paths, before the script's folder
  preload: readonly string[]; // scripts to import at start
  tag: string; // how its output is labelled in the error log
  log: Logger;
  runAs?: RunAs | null; // the user it runs as (started as root); none: the server's own
  umask?: number; // none: the server's
  limits?: readonly string[]; // kernel limits as NAME=N (lib/python/pypages_worker/limits.py)
  tenant?: { name: string; caps: TenantCaps }; // its tenant, whose cgroups it enters (lib/tenant/cgroup-launcher.ts)
  cgroup?: readonly string[]; // the cgroup.procs files it writes its pid to before it runs
}

/** One worker process, however it was started. Emits 'exit' (code, signal) once. */
export interface WorkerProcess extends EventEmitter {
  readonly pid: number;
  readonly input: Writable; // frames to the worker
  readonly output: Readable; // frames from the worker
  /** The last lines it printed: shown when it fails to start. */
  readonly tail: string[];
  kill(signal?: NodeJS.Signals): void;
}

export type Launcher = (opts: LaunchOptions) => Promise<WorkerProcess>;

/** The worker's command line after the interpreter. */
export function workerArgs(opts: LaunchOptions): string[] {
  const args = ['--root', opts.root, '--threads', String(opts.threads), '--processes', String(opts.processes)];
  for (const p of opts.pythonPath) args.push('--python-path', p);
  for (const p of opts.preload) args.push('--preload', p);
  if (opts.umask !== undefined) args.push('--umask', opts.umask.toString(8).padStart(3, '0'));
  for (const l of opts.limits ?? []) args.push('--limit', l);
  return args;
}

export function workerEnv(extra: Record<string, string>, runAs: RunAs | null = null): NodeJS.ProcessEnv {
  const base = baseEnvironment(runAs);
  const existing = base.PYTHONPATH;
  const ours = runAs ? tenantPackageDir() : pythonPackageDir;
  return {
    // glibc gives each of a worker's request threads an arena of its own, and request bodies read in
    // 64-256 KiB pieces fragment them: a worker's RSS crept up 7 MB per 24k uploads and kept 13 MB
    // more than with two arenas, which stay flat (Python's small objects come from its own allocator).
    MALLOC_ARENA_MAX: '2',
    ...base,
    ...extra,
    PYTHONPATH: existing ? `${ours}:${existing}` : ours,
    PYTHONDONTWRITEBYTECODE: '1', // no __pycache__ litter in users' folders, no stale .pyc after an edit
    PYTHONUNBUFFERED: '1',
  };
}

/** Starts a fresh interpreter with the frame pipes on fds 3 and 4. */
export const spawnWorkerProcess: Launcher = async (opts) => {
  const child = await spawnInterpreter(opts);
  const proc = Object.assign(new EventEmitter(), {
    pid: child.pid ?? -1,
    input: child.input,
    output: child.output,
    tail: [] as string[],
    kill: (signal: NodeJS.Signals = 'SIGKILL') => void child.kill(signal),
  });
  const print = (stream: 'out' | 'err') => (line: string) =>
    pageOutput(opts.log, stream, `[${opts.tag} pid ${proc.pid}] ${line}`);
  pipeLines(child.stdout, proc.tail, print('out'));
  pipeLines(child.stderr, proc.tail, print('err'));
  proc.input.on('error', () => {}); // EPIPE when the worker dies: reported by 'exit'
  proc.output.on('error', () => {});
  child.once('error', (err) => {
    proc.tail.push(`cannot start ${opts.python}: ${err.message}`);
    proc.emit('exit', null, null);
  });
  // Not 'close': a page's own child process may hold stdout open for long. A
  // short pause lets the last lines it printed arrive for the tail.
  child.once('exit', (code, signal) => setTimeout(() => proc.emit('exit', code, signal), 20));
  return proc;
};

/** The interpreter process, as its user and in its cgroups where it has them, with fds 3 and 4 piped. */
async function spawnInterpreter(opts: LaunchOptions): Promise<PythonProcess> {
  const args = ['-u', '-m', 'pypages_worker', ...workerArgs(opts)];
  const { runAs = null, cgroup, tenant } = opts;
  const launch = { python: opts.python, args, cwd: opts.cwd, env: opts.env, runAs, cgroup, tenant };
  return startPython(launch).then(
    (started) => started.proc,
    (err: Error) => failedProcess(err.message), // refused by the launcher: as a spawn that failed
  );
}

/** How long a line without its newline (an input() prompt, print(end="")) waits before it is shown as it is. */
export const PARTIAL_LINE_MS = 250;

/** Sends a stream's lines to `onLine`, keeping the last 20 in `tail` (shown if the worker fails to start). */
export function pipeLines(stream: Readable, tail: string[], onLine: (line: string) => void): void {
  onLines(
    stream,
    (line) => {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      onLine(line);
    },
    undefined,
    PARTIAL_LINE_MS,
  );
}
