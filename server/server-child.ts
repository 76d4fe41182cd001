// One server child of the supervisor (server/supervisor.ts): this same
// script started again in the server role, in a session of its own, and its
// stderr passed on to ours with its last lines kept for the crash report.
// Started as root, it runs as server-user with no privileges
// (lib/tenant/server-user.ts), its launcher kept here (server/launcher.ts).

import { type ChildProcess, spawn } from 'node:child_process';
import type { RunAs } from '../lib/tenant/identity.js';
import { unprivileged } from '../lib/tenant/server-user.js';
import { onLines } from '../lib/util/lines.js';
import type { Launcher } from './launcher.js';
import { INSTANCE_VARIABLE } from './leftovers.js';

/** Set in the server child's environment: "you are the supervised server". */
export const ROLE_VARIABLE = 'PYPAGES_SUPERVISED';
const TAIL_LINES = 20; // lines of a dead child's stderr repeated in the report

export interface Running {
  child: ChildProcess;
  instance: string;
  startedAt: number;
  ready: boolean;
  tail: string[];
  stderrDone: Promise<void>;
  lastPong: number;
  hung: boolean;
  /** Its root launcher, when it runs as server-user. */
  launcher?: Launcher;
}

/**
 * Starts a server child marked `instance` (PYPAGES_INSTANCE, which its
 * processes inherit, so that server/leftovers.ts finds them all). Throws if
 * it cannot be spawned at all.
 */
export function startServerChild(instance: string, serverUser: RunAs | null = null): Running {
  const node = [...process.execArgv, ...process.argv.slice(1)];
  const line = serverUser
    ? unprivileged(serverUser, process.execPath, node)
    : { command: process.execPath, args: node };
  const child = spawn(line.command, line.args, {
    // A session of its own: its process group is everything it started, and
    // a terminal's Ctrl-C (sent to the foreground group) reaches only the
    // supervisor, which passes it on once (README, "Signals").
    detached: true,
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    // The supervisor's environment, HOME included: the child reads the same config (state-dir's default) from it.
    env: { ...process.env, [ROLE_VARIABLE]: '1', [INSTANCE_VARIABLE]: instance },
  });
  const tail: string[] = [];
  return {
    child,
    instance,
    startedAt: Date.now(),
    ready: false,
    tail,
    stderrDone: forwardStderr(child, tail),
    lastPong: 0,
    hung: false,
  };
}

/**
 * Copies the child's stderr to ours line by line, keeping the last TAIL_LINES
 * in `tail`. Respects backpressure (a stalled reader stalls the child's
 * stderr, whose own logger bounds what it keeps) and goes on reading if our
 * stderr is gone. Resolves when the child's stderr ends.
 */
function forwardStderr(child: ChildProcess, tail: string[]): Promise<void> {
  const stream = child.stderr!;
  stream.on('error', () => {}); // the child's end is reported by its 'exit'
  let waiting = false;
  onLines(stream, (line) => {
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
    if (process.stderr.destroyed || process.stderr.write(`${line}\n`) || waiting) return;
    waiting = true;
    stream.pause();
    const resume = () => {
      process.stderr.off('drain', resume).off('close', resume);
      waiting = false;
      stream.resume();
    };
    process.stderr.on('drain', resume).on('close', resume);
  });
  return new Promise((resolve) => stream.once('close', resolve));
}
