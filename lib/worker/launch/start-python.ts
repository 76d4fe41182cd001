// Starting a Python process (a worker, or a fork server): here, as this
// process always did (setpriv to the user, in its cgroups: lib/tenant/
// launch-line.ts), or, in a server child that dropped root, by asking the
// root launcher (lib/tenant/root-side.ts), which does the same
// after checking the request against its policy. spawn.ts and forkserver.ts
// get the same shape either way.
import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { RunAs } from '../../tenant/identity.js';
import { asUser } from '../../tenant/launch-line.js';
import { signalIfAlive, type ProcessId } from '../../util/process-identity.js';
import { rootSide, type PythonProcess, type StartRequest, type Started } from '../../tenant/root-side.js';
import { forkSocket } from './fork-folders.js';
import { workerEnv } from './spawn.js';

const FOLDER_VARIABLE = 'PYPAGES_FOLDER';

/** What this process knows of a launch: the whole user, and the cgroup.procs files when it made the cgroups itself. */
export interface PythonLaunch extends Omit<StartRequest, 'user'> {
  readonly runAs: RunAs | null;
  readonly cgroup?: readonly string[];
}

/** Starts it here, or has the launcher start it when this process gave up root. */
export function startPython(launch: PythonLaunch): Promise<Started> {
  const side = rootSide();
  if (!side) return Promise.resolve(startHere(launch));
  const { runAs, cgroup: _, ...rest } = launch;
  return side.start({ ...rest, user: runAs ? { uid: runAs.uid, gid: runAs.gid } : null });
}

/** How the launcher differs from a server starting its own: more variables (its instance mark), a session per process. */
export interface HereOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly detached?: boolean;
  /** A fork server's socket bound now, to be passed on (lib/worker/launch/fork-folders.ts). */
  readonly bound?: boolean;
}

/**
 * Spawns it from this process: through setpriv when it has a user, entering
 * its cgroups first; a fork server in its socket's folder. Throws only if the
 * socket cannot be made; a spawn failure is the process's 'error'.
 */
export function startHere(launch: PythonLaunch, options: HereOptions = {}): Started {
  const socket = launch.fork ? forkSocket(launch.runAs, options.bound ?? false) : null;
  const args = socket ? [...launch.args, '--socket', socket.path] : launch.args;
  const folder = socket ? dirname(socket.path) : launch.cwd;
  const line = asUser(launch.python, args, launch.runAs, launch.cgroup);
  // A user's folder is entered by the process itself, as the user (FOLDER_VARIABLE in pypages_worker/main.py).
  const entered = launch.runAs ? { [FOLDER_VARIABLE]: folder } : {};
  try {
    const child = spawn(line.command, line.args, {
      cwd: launch.runAs ? '/' : folder,
      env: { ...workerEnv({ ...launch.env }, launch.runAs), ...entered, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
      detached: options.detached,
    });
    const pipes = { input: child.stdio[3] as Writable, output: child.stdio[4] as Readable };
    return { proc: Object.assign(child, pipes) as unknown as PythonProcess, socket };
  } catch (err) {
    socket?.remove();
    throw err;
  }
}

/**
 * Sends `signal` to the process `id` names if it still lives: here, or
 * through the launcher when this process gave up root (a tenant's process is
 * not this user's to signal; the launcher checks its uid against its policy).
 */
export function signalProcess(id: ProcessId, signal: NodeJS.Signals): void {
  const side = rootSide();
  if (side) side.signal(id, signal);
  else signalIfAlive(id, signal);
}
