// The privileged launcher: the small process that stays root so that the
// server child need not (README "Security model"; it runs in
// ./launcher-main.ts). It serves the IPC requests of one server child, its
// parent (lib/worker/launch/root-client.ts has the protocol), and nobody
// else's. Each request is checked as if the child were compromised
// (lib/tenant/launch-policy.ts): a refusal is logged with the child's pid and
// answered, never carried out, and no request can make this process throw.
// A process it starts is its child, in the server child's session (so
// server/leftovers.ts finds it there), marked with its instance; its pipes
// are handed to the server child and closed here, so no frame ever passes
// through root. When the server child ends, end() kills what it started,
// its tenants' cgroups and its fork servers' folders.
import { execFile } from 'node:child_process';
import { constants } from 'node:os';
import { PROBE_SCRIPT } from '../lib/groups/interpreter.js';
import { readFileSync } from 'node:fs';
import type { Accounts } from '../lib/tenant/accounts.js';
import { Cgroups, type TenantCaps } from '../lib/tenant/cgroups.js';
import { type LaunchPolicy, OWNER_VARIABLE, ownerRule, programRefusal } from '../lib/tenant/launch-policy.js';
import { refusedEnv, rootTrusted, uidRefusal, userFor } from '../lib/tenant/launch-policy.js';
import type { Started } from '../lib/tenant/root-side.js';
import type { Logger } from '../lib/util/log.js';
import { signalIfAlive } from '../lib/util/process-identity.js';
import { removeStaleForkFoldersOnce } from '../lib/worker/launch/fork-folders.js';
import { killMarked } from '../lib/worker/launch/page-leftovers.js';
import { startHere } from '../lib/worker/launch/start-python.js';
import { INSTANCE_VARIABLE } from './leftovers.js';
import { checkedStart, type StartMessage } from './launcher-messages.js';

type Message = { pypages?: unknown; [key: string]: unknown };

/** The server child, as the launcher reaches it (its parent's IPC channel). */
export interface Peer {
  readonly pid: number;
  readonly connected: boolean;
  send(message: object, handle?: unknown): void;
}

export interface LauncherOptions {
  readonly child: Peer;
  readonly instance: string;
  /** The policy now (re-read with the config on SIGHUP). */
  readonly policy: () => LaunchPolicy;
  readonly accounts: Accounts;
  readonly say: (message: string) => void;
  /** This launcher's cgroups' folder name in each hierarchy. */
  readonly cgroupName: string;
}

const PROBE_MS = 10_000; // as lib/groups/interpreter.ts
/** Root probes running at once; past them the child probes itself, as server-user (a flood of probes must not fill the machine with root processes). */
export const PROBES_AT_ONCE = 4;
const MAX_TENANTS = 10_000; // cgroups a child may have made, so that a compromised one cannot fill the hierarchy

export class Launcher {
  readonly cgroups: Cgroups | null;
  private readonly started = new Map<number, Started>();
  private readonly tenants = new Set<string>();
  private probing = 0;
  /** The server child, the supervisor, and on up to init: never signalled. */
  private readonly ancestors = ancestorsOf(process.pid);
  private ended = false;

  constructor(private readonly o: LauncherOptions) {
    const log: Logger = { access: () => {}, error: (m) => o.say(m), info: (m) => o.say(m) };
    removeStaleForkFoldersOnce(log);
    this.cgroups = Cgroups.detect({ log, name: o.cgroupName });
  }

  /** For the banner. */
  get describeCgroups(): string {
    return this.cgroups?.describe ?? 'none: tenants are bounded by per-process limits only';
  }

  /** Handles `message` if it is a launcher request (true), never throwing. */
  handle(message: Message): boolean {
    const kind = message?.pypages;
    if (!['start', 'kill', 'signal', 'sweep', 'probe'].includes(String(kind))) return false;
    try {
      if (this.ended) return true;
      if (kind === 'start') this.start(message);
      else if (kind === 'kill') this.kill(message);
      else if (kind === 'signal') this.signal(message);
      else if (kind === 'probe') this.probe(message);
      else void this.sweep(message);
    } catch (err) {
      this.refuse(`${String(kind)}`, `it could not be carried out: ${(err as Error).message}`);
    }
    return true;
  }

  /** The server child is gone: what it started is killed, its cgroups and fork folders removed. */
  end(): void {
    this.ended = true;
    for (const { proc } of this.started.values()) proc.kill('SIGKILL');
    for (const { socket } of this.started.values()) socket?.remove();
    this.started.clear();
    this.cgroups?.close();
  }

  private start(message: Message): void {
    const m = checkedStart(message);
    if (typeof m === 'string') return this.refuse('a start', m, message.id);
    const user = userFor(m.user, this.o.policy(), this.o.accounts);
    if ('refused' in user) return this.refuse(`a process as ${describeUser(m)}`, user.refused, m.id);
    const env = refusedEnv(m.env, this.o.policy());
    if (env.length) return this.refuse('a process', `variables root or Python would read: ${env.join(', ')}`, m.id);
    const program = programRefusal(m.python, m.args, user.runAs?.uid ?? 0);
    if (program) return this.refuse('a process', program, m.id);
    const cgroup = m.tenant && user.runAs ? this.cgroupOf(m.tenant) : [];
    const started = startHere({ ...m, runAs: user.runAs, cgroup }, { env: this.envOf(user.runAs), bound: true });
    this.handOver(m, started);
  }

  /** What the launcher adds last, past the child's reach: its instance mark, and whose files a tenant may import. */
  private envOf(runAs: { uid: number } | null): Record<string, string> {
    const owner = runAs && ownerRule(runAs.uid, this.o.policy());
    return { [INSTANCE_VARIABLE]: this.o.instance, ...(owner ? { [OWNER_VARIABLE]: owner } : {}) };
  }

  /** Sends the server child the new process's pid and pipes (closed here once sent), then its exit. */
  private handOver(m: StartMessage, { proc, socket }: Started): void {
    if (proc.pid === undefined) {
      socket?.remove();
      proc.once('error', (err: Error) => this.reply({ pypages: 'start-failed', id: m.id, error: err.message }));
      return;
    }
    const pipes = [proc.stdout, proc.stderr, proc.input, proc.output];
    for (const pipe of pipes) (pipe as { pause?(): void }).pause?.(); // not one byte read here: all for the child
    this.started.set(m.id, { proc, socket });
    proc.once('exit', (code, signal) => {
      this.started.delete(m.id);
      socket?.remove();
      this.reply({ pypages: 'exited', id: m.id, code, signal });
    });
    this.reply({ pypages: 'started', id: m.id, pid: proc.pid, socket: socket?.path });
    for (const [i, pipe] of pipes.entries()) this.reply({ pypages: 'pipe', id: m.id, fd: String(i + 1) }, pipe);
    if (socket) this.reply({ pypages: 'pipe', id: m.id, fd: 'socket' }, socket.handle); // kept open until its exit
  }

  private cgroupOf(tenant: { name: string; caps: TenantCaps }): string[] {
    if (!this.cgroups || (!this.tenants.has(tenant.name) && this.tenants.size >= MAX_TENANTS)) return [];
    this.tenants.add(tenant.name);
    return this.cgroups.enter(tenant.name, tenant.caps);
  }

  private kill(m: Message): void {
    const signal = signalOf(m.signal);
    const started = this.started.get(Number(m.id));
    if (signal && started) started.proc.kill(signal);
  }

  /** A process a fork server forked: signalled only if it is still the one named and its uid is a tenant's. */
  private signal(m: Message): void {
    const [pid, uid, start] = [Number(m.pid), Number(m.uid), m.start === null ? null : Number(m.start)];
    const signal = signalOf(m.signal);
    const why = !signal ? `not a signal: ${String(m.signal)}` : this.targetRefusal(pid, uid);
    if (why) return this.refuse(`${String(m.signal)} to pid ${m.pid}`, why);
    signalIfAlive({ pid, start, uid }, signal!);
  }

  /** Why a process running as `uid` may not be signalled; null if it may. */
  private targetRefusal(pid: number, uid: number): string | null {
    if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid || this.ancestors.has(pid))
      return 'pid 1, the supervisor, the server and the launcher are never signalled';
    if (uid !== 0) return uidRefusal(uid, this.o.policy());
    if (!this.o.policy().allowRoot) return 'a root process, without allow-root-pages';
    return marked(pid, `${INSTANCE_VARIABLE}=${this.o.instance}`) ? null : 'a root process pypages did not start';
  }

  private async sweep(m: Message): Promise<void> {
    const markers = Array.isArray(m.markers) ? m.markers.filter((x) => /^PYPAGES_WORKER=[\w.-]{1,64}$/.test(x)) : [];
    if (markers.length === 0 || markers.length > 1000) return this.reply({ pypages: 'swept', id: m.id, killed: [] });
    const killed = await killMarked(new Set(markers), (pid) => this.targetRefusal(pid, uidOf(pid)) === null);
    this.reply({ pypages: 'swept', id: m.id, killed: [...killed] });
  }

  /** The interpreter probe, as root, of a Python only root can change; for any other file the child probes it itself. */
  private probe(m: Message): void {
    const real = typeof m.file === 'string' && this.probing < PROBES_AT_ONCE ? rootTrusted(m.file) : null;
    if (!real) return this.reply({ pypages: 'probed', id: m.id, result: null });
    this.probing++;
    // In /: nothing of the working folder (a file a server child put there) is root's to read.
    execFile(real, ['-c', PROBE_SCRIPT], { timeout: PROBE_MS, cwd: '/' }, (err, stdout, stderr) => {
      this.probing--;
      const error = err && { message: err.message, code: err.code, killed: err.killed };
      this.reply({ pypages: 'probed', id: m.id, result: { error, stdout: String(stdout), stderr: String(stderr) } });
    });
  }

  private refuse(what: string, why: string, id?: unknown): void {
    this.o.say(`launcher: refused ${what} asked by the server (pid ${this.o.child.pid}): ${why}`);
    if (id !== undefined) this.reply({ pypages: 'start-failed', id, error: `the launcher refused it: ${why}` });
  }

  /** A message (and a handle) to the child, if it still listens. */
  private reply(message: object, handle?: unknown): void {
    if (!this.o.child.connected) return;
    try {
      this.o.child.send(message, handle);
    } catch {} // the channel closed meanwhile: the child's exit ends everything
  }
}

function describeUser(m: StartMessage): string {
  return m.user ? `uid ${m.user.uid} gid ${m.user.gid}` : 'root';
}

function signalOf(raw: unknown): NodeJS.Signals | null {
  return typeof raw === 'string' && /^SIG[A-Z0-9]+$/.test(raw) && raw in constants.signals
    ? (raw as NodeJS.Signals)
    : null;
}

/** The real uid of `pid` (-1 if it is gone); killMarked's target is then judged like a signal's. */
function uidOf(pid: number): number {
  try {
    return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1] ?? -1);
  } catch {
    return -1;
  }
}

/** The parent of `pid`, its parent, and so on up to init. */
function ancestorsOf(pid: number): Set<number> {
  const found = new Set<number>();
  for (let at = pid; at > 1 && found.size < 64; ) {
    try {
      const stat = readFileSync(`/proc/${at}/stat`, 'latin1');
      at = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
    found.add(at);
  }
  return found;
}

function marked(pid: number, mark: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(mark);
  } catch {
    return false;
  }
}
