// What a page leaves behind when its worker ends: processes it started and
// did not wait for (a daemon that called setsid, a job left running). Each
// worker carries a mark of its own in its environment (WORKER_VARIABLE),
// which every process it starts inherits; once the worker has exited, every
// live process still carrying that mark is killed, so a page's processes
// live no longer than its worker, whether it ended by idle-timeout, a reload
// or a crash. A process that also cleared its environment escapes this (and
// only the server's end, or a cgroup, catches it: README, "Reliability").
// Linux only (/proc); elsewhere nothing is found.

import { readdir, readFile } from 'node:fs/promises';
import { rootSide } from '../../tenant/root-side.js';
import type { Launcher } from './spawn.js';

/** The environment variable that names the worker a process descends from. */
export const WORKER_VARIABLE = 'PYPAGES_WORKER';
/** Every mark is this wide: a forked worker writes its own over the fork server's placeholder, in place (forkserver/env_mark.py). */
const MARK_WIDTH = 24;
/** The fork server's value of WORKER_VARIABLE, which its forked workers overwrite. */
export const MARK_PLACEHOLDER = '.'.repeat(MARK_WIDTH);

const ROUNDS = 5; // kill, look again: a process may fork while its parent is killed
const ROUND_PAUSE_MS = 25;
const SWEEP_MS = 250; // what exits meanwhile is looked for in the same pass
let launched = 0;

/** `launch`, with each worker marked, and what its page left behind killed (and logged) once it has exited. */
export function killingLeftovers(launch: Launcher): Launcher {
  return async (opts) => {
    const mark = `${process.pid}-${++launched}`.padEnd(MARK_WIDTH, '.');
    const proc = await launch({ ...opts, env: { ...opts.env, [WORKER_VARIABLE]: mark } });
    proc.once('exit', () =>
      sweep(`${WORKER_VARIABLE}=${mark}`, (killed) =>
        opts.log.error(
          `[${opts.tag} pid ${proc.pid}] killed ${killed.length} process(es) its page left running (pids ${killed.join(' ')})`,
        ),
      ),
    );
    return proc;
  };
}

/** Marks of workers that have exited, each with what to say if it had processes left; looked for together. */
const due = new Map<string, (killed: number[]) => void>();
let sweeping = false;

/**
 * Kills what carries `marker`, in a pass over /proc shared with every other
 * worker that exited meanwhile: a server that recycles workers fast
 * (max-requests) reads /proc at most once per SWEEP_MS, not once per worker.
 */
function sweep(marker: string, report: (killed: number[]) => void): void {
  due.set(marker, report);
  if (sweeping) return;
  sweeping = true;
  setTimeout(async () => {
    const batch = new Map(due);
    due.clear();
    const markers = new Set(batch.keys());
    // A server child without root can neither read a tenant's environment nor signal it: its launcher does both.
    const killed = await (rootSide()?.killMarked(markers) ?? killMarked(markers));
    for (const [marker, pids] of killed) if (pids.length) batch.get(marker)!(pids);
    sweeping = false;
    if (due.size) sweep(...due.entries().next().value!);
  }, SWEEP_MS).unref();
}

/** SIGKILLs every live process whose environment holds one of `markers`, looking again a few times; the pids killed, by marker. */
export async function killMarked(
  markers: ReadonlySet<string>,
  may: (pid: number) => boolean = () => true,
): Promise<Map<string, number[]>> {
  const killed = new Map([...markers].map((m) => [m, [] as number[]]));
  for (let round = 0; round < ROUNDS; round++) {
    const found = await marked(markers);
    if (found.length === 0) break;
    for (const [pid, marker] of found) {
      if (!may(pid)) continue;
      if (!killed.get(marker)!.includes(pid)) killed.get(marker)!.push(pid);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already, or not ours to kill
      }
    }
    await new Promise((r) => setTimeout(r, ROUND_PAUSE_MS));
  }
  return killed;
}

async function marked(markers: ReadonlySet<string>): Promise<[number, string][]> {
  const entries = await readdir('/proc').catch(() => [] as string[]);
  const pids = entries.map(Number).filter((pid) => Number.isInteger(pid) && pid !== process.pid);
  const holds = await Promise.all(pids.map((pid) => markerOf(pid, markers)));
  return pids.flatMap((pid, i) => (holds[i] ? [[pid, holds[i]] as [number, string]] : []));
}

async function markerOf(pid: number, markers: ReadonlySet<string>): Promise<string | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'latin1');
    const state = stat[stat.lastIndexOf(')') + 2];
    if (state === 'Z' || state === 'X') return null; // dead: holds nothing but its pid
    return (await readFile(`/proc/${pid}/environ`, 'latin1')).split('\0').find((v) => markers.has(v)) ?? null;
  } catch {
    return null; // ended, or another user's: not one of ours
  }
}
