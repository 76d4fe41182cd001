// One server child of the supervisor (server/supervisor.ts): this same
// script started again in the server role, in a session of its own, and its
// stderr passed on to ours with its last lines kept for the crash report.
// Started as root, it is told its server-user, and drops to it (server/drop.ts).

import { type ChildProcess, spawn } from 'node:child_process';
import { onLines } from '../lib/util/lines.js';
import { SERVER_USER_VARIABLE } from './drop.js';
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
}

/**
 * Starts a server child marked `instance` (PYPAGES_INSTANCE, which its
 * processes inherit, so that server/leftovers.ts finds them all), to serve
 * as `serverUser` if one is given. Throws if it cannot be spawned at all.
 */
export function startServerChild(instance: string, serverUser: string | null = null): Running {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    // A session of its own: its process group is everything it started, and
    // a terminal's Ctrl-C (sent to the foreground group) reaches only the
    // supervisor, which passes it on once (README, "Signals").
    detached: true,
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    env: {
      ...process.env,
      [ROLE_VARIABLE]: '1',
      [INSTANCE_VARIABLE]: instance,
      ...(serverUser ? { [SERVER_USER_VARIABLE]: serverUser } : {}),
    },
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
