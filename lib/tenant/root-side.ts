// Where root lives when the HTTP side has dropped it. Started as root, the
// server child starts a launcher (server/launcher.ts, root, its own child)
// and becomes server-user with no capabilities (server/drop.ts); the
// launcher does, for that child only and within a policy
// (./launch-policy.ts), the few things that need root:
// start a Python process as a tenant in its cgroups, signal a tenant's
// process, kill what a dead worker's page left running. The server child
// reaches it through this interface (lib/worker/launch/root-client.ts speaks
// the IPC protocol); in any other process (not root, root without a
// supervisor, the tests' in-process servers) there is none, and the process
// does those things itself as it always did.
import type { EventEmitter } from 'node:events';
import type { Server } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import type { ProcessId } from '../util/process-identity.js';
import type { TenantCaps } from './cgroup-caps.js';

/** A Python process to start: what spawn.ts and forkserver.ts ask for, here or of the launcher. */
export interface StartRequest {
  readonly python: string;
  /** The arguments after the interpreter (without the fork server's --socket: that is the starter's). */
  readonly args: readonly string[];
  readonly cwd: string;
  /** Variables on top of the worker's environment (lib/worker/launch/spawn.ts workerEnv). */
  readonly env: Readonly<Record<string, string>>;
  /** Its user: uid and gid (the launcher looks up the rest itself); null: the server's own (root, if allowed). */
  readonly user: { readonly uid: number; readonly gid: number } | null;
  /** Its tenant, whose cgroups it enters (the launcher makes them). */
  readonly tenant?: { readonly name: string; readonly caps: TenantCaps };
  /** A fork server: its socket's folder is made for it, and `--socket PATH` added to its arguments. */
  readonly fork?: boolean;
}

/**
 * A started Python process, as spawn.ts and forkserver.ts use it: a
 * ChildProcess when started here, its launcher's child seen through IPC
 * otherwise. Emits 'exit' (code, signal) once, or 'error' if it never started.
 */
export interface PythonProcess extends EventEmitter {
  readonly pid: number | undefined;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** fd 3 (frames or commands to it) and fd 4 (from it). */
  readonly input: Writable;
  readonly output: Readable;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  kill(signal?: NodeJS.Signals): void;
}

/** A fork server's socket, where its children connect: `listen` on it, `remove` it after. */
export interface ForkSocket {
  readonly path: string;
  /** Makes `server` accept on it. */
  listen(server: Server): Promise<void>;
  /** Removes its folder (a server child without root leaves that to the launcher, at the fork server's exit). */
  remove(): void;
  /** A bound socket handle, in the launcher: passed to the server child, which listens on it. */
  readonly handle?: object;
}

export interface Started {
  readonly proc: PythonProcess;
  /** The fork server's socket, for a request with `fork`. */
  readonly socket: ForkSocket | null;
}

/** The root side's part of starting, signalling and sweeping; see lib/worker/launch/root-client.ts. */
export interface RootSide {
  /** The user the HTTP side runs as, for the banner. */
  readonly serverUser: string;
  /** The launcher's cgroups, for the banner ("cgroup v2 (memory, cpu, pids)" or why none). */
  readonly cgroups: string;
  /** Starts a Python process as the launcher's policy allows; resolves once its pipes are here (a refusal: a process that emits 'error'). */
  start(request: StartRequest): Promise<Started>;
  /** Sends `signal` to the process `id` names (its uid known), if it still lives and the launcher's policy lets it. */
  signal(id: ProcessId, signal: NodeJS.Signals): void;
  /**
   * Runs the interpreter probe (`file -c PROBE_SCRIPT`) as root, if `file`
   * is a python* that only root can change: its outcome, as execFile gives it;
   * null when the launcher will not (the caller then runs it itself).
   */
  probe(file: string): Promise<{ error: Error | null; stdout: string; stderr: string } | null>;
  /** Kills every process carrying one of `markers` (lib/worker/launch/page-leftovers.ts): the pids killed, by marker. */
  killMarked(markers: ReadonlySet<string>): Promise<Map<string, number[]>>;
}

let current: RootSide | null = null;

/** The server child's launcher, once it has dropped root (server/drop.ts). */
export function useRootSide(side: RootSide | null): void {
  current = side;
}

/** The launcher this process must ask for root's work, or null: it does that work itself. */
export function rootSide(): RootSide | null {
  return current;
}
