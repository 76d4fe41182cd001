// Which process a pid names, and noticing its end without being its parent.
// Linux reuses pids (pid_max may be as low as 32768): once a process Node
// does not reap has died, its pid may soon name another process. The start
// time in /proc/PID/stat (field 22, clock ticks since boot) tells them apart:
// a pid with another start time is another process, and is never signalled.

import { existsSync, readFileSync } from 'node:fs';

/** A process as Node first saw it. start is null where there is no /proc (the pid alone is then trusted). */
export interface ProcessId {
  readonly pid: number;
  readonly start: number | null;
  /**
   * The uid it runs as, when someone else told Node its pid: a tenant's fork
   * server (a page can write to its zygote's event channel through
   * pidfd_getfd) must not make Node, as root, signal a process of another
   * user. A process whose real, effective or saved uid is not this one is
   * not the process named: it is never signalled, and counts as gone.
   */
  readonly uid?: number;
}

const POLL_MS = 250;
const hasProc = process.platform === 'linux' && existsSync('/proc/self/stat');

/** The start time and state letter of `pid` from /proc, or null if no process has that pid. */
function readStat(pid: number): { start: number; state: string } | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // the name before it may hold anything
  return { state: fields[0], start: Number(fields[19]) };
}

/** The identity of the live process `pid` now, or null if there is none (a zombie is not live). */
export function identify(pid: number): ProcessId | null {
  if (!hasProc) return exists(pid) ? { pid, start: null } : null;
  const stat = readStat(pid);
  return stat && !isDead(stat.state) ? { pid, start: stat.start } : null;
}

/** True while `id` still names a live process: same pid, same start time (if known), not a zombie. */
export function isAlive(id: ProcessId): boolean {
  if (!hasProc) return exists(id.pid);
  const stat = readStat(id.pid);
  if (stat === null || (id.start !== null && stat.start !== id.start) || isDead(stat.state)) return false;
  return id.uid === undefined || runsOnlyAs(id.pid, id.uid);
}

/** Whether the real, effective and saved uids of `pid` are all `uid` (the "Uid:" line of /proc/PID/status). */
function runsOnlyAs(pid: number, uid: number): boolean {
  try {
    const line = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return line?.slice(1).every((u) => Number(u) === uid) ?? false;
  } catch {
    return false; // gone meanwhile
  }
}

/**
 * Sends `signal` to the process `id` names, if it still lives; returns
 * whether it did. (Between the check and the kill lie microseconds: far too
 * few for the pid space to wrap around.)
 */
export function signalIfAlive(id: ProcessId, signal: NodeJS.Signals): boolean {
  if (!isAlive(id)) return false;
  try {
    process.kill(id.pid, signal);
    return true;
  } catch {
    return false; // it ended meanwhile
  }
}

const watched = new Map<ProcessId, () => void>();
let timer: NodeJS.Timeout | null = null;

/** Calls `onGone` once `id` no longer names a live process (looked at every 250 ms); returns a function that stops the watch. */
export function watchUntilGone(id: ProcessId, onGone: () => void): () => void {
  watched.set(id, onGone);
  timer ??= setInterval(poll, POLL_MS).unref(); // one timer for every watched process; none while there is none
  return () => unwatch(id);
}

function poll(): void {
  for (const [id, onGone] of [...watched]) {
    if (isAlive(id)) continue;
    unwatch(id);
    onGone();
  }
}

function unwatch(id: ProcessId): void {
  watched.delete(id);
  if (watched.size === 0 && timer) {
    clearInterval(timer);
    timer = null;
  }
}

/** Z: a zombie, waiting for a parent that may never reap it (Node as pid 1 in a container); X: being removed. */
function isDead(state: string): boolean {
  return state === 'Z' || state === 'X';
}

function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // it exists, as another user's
  }
}
