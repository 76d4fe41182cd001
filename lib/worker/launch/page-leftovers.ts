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
import type { Launcher } from './spawn.js';

/** The environment variable that names the worker a process descends from. */
export const WORKER_VARIABLE = 'PYPAGES_WORKER';
/** Every mark is this wide: a forked worker writes its own over the fork server's placeholder, in place (forkserver/env_mark.py). */
const MARK_WIDTH = 24;
/** The fork server's value of WORKER_VARIABLE, which its forked workers overwrite. */
export const MARK_PLACEHOLDER = '.'.repeat(MARK_WIDTH);

const ROUNDS = 5; // kill, look again: a process may fork while its parent is killed
const ROUND_PAUSE_MS = 25;
let launched = 0;

/** `launch`, with each worker marked, and what its page left behind killed (and logged) once it has exited. */
export function killingLeftovers(launch: Launcher): Launcher {
  return async (opts) => {
    const mark = `${process.pid}-${++launched}`.padEnd(MARK_WIDTH, '.');
    const marker = `${WORKER_VARIABLE}=${mark}`;
    const proc = await launch({ ...opts, env: { ...opts.env, [WORKER_VARIABLE]: mark } });
    proc.once('exit', async () => {
      const killed = await killMarked(marker);
      if (killed.length)
        opts.log.error(
          `[${opts.tag} pid ${proc.pid}] killed ${killed.length} process(es) its page left running (pids ${killed.join(' ')})`,
        );
    });
    return proc;
  };
}

/** SIGKILLs every live process whose environment holds `marker`, looking again a few times; the pids it killed. */
export async function killMarked(marker: string): Promise<number[]> {
  const killed = new Set<number>();
  for (let round = 0; round < ROUNDS; round++) {
    const found = await marked(marker);
    if (found.length === 0) break;
    for (const pid of found) {
      killed.add(pid);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already, or not ours to kill
      }
    }
    await new Promise((r) => setTimeout(r, ROUND_PAUSE_MS));
  }
  return [...killed];
}

async function marked(marker: string): Promise<number[]> {
  const entries = await readdir('/proc').catch(() => [] as string[]);
  const pids = entries.map(Number).filter((pid) => Number.isInteger(pid) && pid !== process.pid);
  const holds = await Promise.all(pids.map((pid) => holdsMarker(pid, marker)));
  return pids.filter((_, i) => holds[i]);
}

async function holdsMarker(pid: number, marker: string): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'latin1');
    const state = stat[stat.lastIndexOf(')') + 2];
    if (state === 'Z' || state === 'X') return false; // dead: holds nothing but its pid
    return (await readFile(`/proc/${pid}/environ`, 'latin1')).split('\0').includes(marker);
  } catch {
    return false; // ended, or another user's: not one of ours
  }
}
