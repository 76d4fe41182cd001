// What is left of a dead server child: its Python workers, fork servers and
// whatever its pages started. The supervisor starts each server child in a
// session of its own (spawn's `detached`) with a marker in its environment
// (INSTANCE_VARIABLE) that every process below it inherits. A process
// belongs to the dead server when it is in that session or process group,
// or carries the marker: the marker catches what left the session with
// setsid() (a page's daemon); the session catches what dropped its
// environment. Only a process that did both escapes. Linux only (/proc);
// elsewhere, the process group alone.

import { readdirSync, readFileSync } from 'node:fs';

/** The environment variable that names the server child a process descends from. */
export const INSTANCE_VARIABLE = 'PYPAGES_INSTANCE';

const ROUNDS = 40; // kill, look again: a process may fork while we kill its parent
const ROUND_PAUSE_MS = 25;

export interface Leftovers {
  /** Pids that were found and sent SIGKILL. */
  killed: number[];
  /** Pids still alive after the last round (in uninterruptible sleep, or of another user). */
  survivors: number[];
}

/**
 * SIGKILLs every process of the dead server child `sessionId` (its pid)
 * whose instance marker is `instance`, looks again until none is left
 * (bounded: ROUNDS x ROUND_PAUSE_MS), and says what it killed and what
 * survived. Zombies count as gone: they hold no resources but a pid.
 */
export async function killLeftovers(sessionId: number, instance: string): Promise<Leftovers> {
  const killed = new Set<number>();
  for (let round = 0; round < ROUNDS; round++) {
    const found = belongingTo(sessionId, `${INSTANCE_VARIABLE}=${instance}`);
    if (found.length === 0) return { killed: [...killed], survivors: [] };
    signal(-sessionId);
    for (const pid of found) {
      killed.add(pid);
      signal(pid);
    }
    await new Promise((r) => setTimeout(r, ROUND_PAUSE_MS));
  }
  return { killed: [...killed], survivors: belongingTo(sessionId, `${INSTANCE_VARIABLE}=${instance}`) };
}

function signal(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already (ESRCH), or not ours to kill (EPERM): the next look says which
  }
}

/** Live processes (not zombies) in session or group `sessionId`, or whose environment holds `marker`. */
function belongingTo(sessionId: number, marker: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const stat = readStat(pid);
    if (!stat || stat.state === 'Z' || stat.state === 'X') continue;
    if (stat.session === sessionId || stat.group === sessionId || hasMarker(pid, marker)) found.push(pid);
  }
  return found;
}

function readStat(pid: number): { state: string; group: number; session: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name (in parentheses) may hold spaces and parentheses: fields start after the last ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], group: Number(fields[2]), session: Number(fields[3]) };
  } catch {
    return null; // it ended while we looked
  }
}

function hasMarker(pid: number, marker: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(marker);
  } catch {
    return false; // ended, or another user's: not one of ours
  }
}
