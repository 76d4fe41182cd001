// PSS of a server's whole process tree, sampled through a run. PSS divides
// each shared page among the processes mapping it, so the sum over a tree is
// its honest share of the machine's memory: forked workers sharing their
// parent's pages, Apache children sharing theirs, are not counted twice as
// an RSS sum would. Read from /proc/PID/smaps_rollup (walking page tables
// costs a little: hence a sample a second by default, not every 100 ms).

import { readFileSync } from 'node:fs';
import { processTree, scanProcesses } from '../measure.mjs';

/** PSS of one process in bytes, or 0 if it is gone (or is a kernel thread). */
export function pssOf(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1');
    const kb = /^Pss:\s+(\d+) kB/m.exec(text);
    return kb ? Number(kb[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** One look at the tree: { pss, processes, pids, byComm: Map(comm -> { pss, count }) }. */
export function treePss(rootPid) {
  const tree = processTree(rootPid, scanProcesses());
  const byComm = new Map();
  let pss = 0;
  for (const p of tree) {
    const bytes = pssOf(p.pid);
    pss += bytes;
    const entry = byComm.get(p.comm) ?? { pss: 0, count: 0 };
    entry.pss += bytes;
    entry.count++;
    byComm.set(p.comm, entry);
  }
  return { pss, processes: tree.length, pids: tree.map((p) => p.pid), byComm };
}

/**
 * Samples the tree every `intervalMs` until stop(), which returns { peak,
 * mean, last, samples, maxProcesses, pidsSeen (distinct processes seen: a
 * rough count of starts, as a process living less than one interval is
 * missed), byComm (at the last sample, MiB per command) }.
 */
export function samplePss(rootPid, intervalMs = 1000) {
  const seen = new Set();
  let peak = 0;
  let sum = 0;
  let samples = 0;
  let maxProcesses = 0;
  let last = null;
  const take = () => {
    last = treePss(rootPid);
    for (const pid of last.pids) seen.add(pid);
    peak = Math.max(peak, last.pss);
    maxProcesses = Math.max(maxProcesses, last.processes);
    sum += last.pss;
    samples++;
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      const byComm = Object.fromEntries(
        [...last.byComm].map(([comm, e]) => [comm, { mib: +(e.pss / 2 ** 20).toFixed(1), count: e.count }]),
      );
      return { peak, mean: sum / samples, last: last.pss, samples, maxProcesses, pidsSeen: seen.size, byComm };
    },
  };
}
