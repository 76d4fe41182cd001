// The server child's side of the launcher (server/launcher.ts), when it runs
// as server-user: the IPC messages it sends its launcher (its own child, still
// root) for what needs root, and what comes back. Only the start of a process, a signal to a
// tenant's process and the sweep of a dead worker's leftovers go this way;
// frames and output never do: a started process's pipes (and a fork server's
// socket) are passed to this process as handles, and from then on it talks
// to the worker directly, as it does to one it spawned itself.
//
//   → { pypages: 'start', id, python, args, cwd, env, user, tenant?, fork? }
//   ← { pypages: 'started', id, pid }, then { pypages: 'pipe', id, fd } with
//     each handle (fd 1 to 4, and 'socket' for a fork server), or
//     { pypages: 'start-failed', id, error }; later { pypages: 'exited', id, code, signal }
//   → { pypages: 'kill', id, signal }              (a process the launcher started)
//   → { pypages: 'signal', pid, start, uid, signal } (one a fork server forked)
//   → { pypages: 'sweep', id, markers }  ← { pypages: 'swept', id, killed: [[marker, pids]] }
//   → { pypages: 'probe', id, file }  ← { pypages: 'probed', id, result: null | { error, stdout, stderr } }
//   → { pypages: 'reread' }  (after a SIGHUP: the launcher reads the config again for its policy)
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { ProcessId } from '../../util/process-identity.js';
import type { Server } from 'node:net';
import type { ForkSocket, PythonProcess, RootSide, StartRequest, Started } from '../../tenant/root-side.js';
import { listenOn } from './fork-folders.js';

const PIPES = ['1', '2', '3', '4'] as const;

interface Pending {
  readonly request: StartRequest;
  pid?: number;
  socketPath?: string;
  readonly pipes: Map<string, unknown>;
  resolve(started: Started): void;
  reject(err: Error): void;
}

type Message = { pypages?: string; id?: number; [key: string]: unknown };
type Probed = { error: Error | null; stdout: string; stderr: string };

export class RootClient implements RootSide {
  private next = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly running = new Map<number, RemoteProcess>();
  private readonly sweeps = new Map<number, (killed: Map<string, number[]>) => void>();
  private readonly probes = new Map<number, (result: Probed | null) => void>();

  constructor(
    private readonly launcher: ChildProcess,
    readonly serverUser: string,
    readonly cgroups: string,
  ) {
    launcher.on('message', (message: Message, handle: unknown) => this.onMessage(message, handle));
    process.on('SIGHUP', () => this.send({ pypages: 'reread' }));
  }

  start(request: StartRequest): Promise<Started> {
    const id = ++this.next;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { request, pipes: new Map(), resolve, reject });
      if (!this.send({ ...request, pypages: 'start', id })) this.failed(id, 'the launcher is gone');
    });
  }

  signal(id: ProcessId, signal: NodeJS.Signals): void {
    this.send({ pypages: 'signal', pid: id.pid, start: id.start, uid: id.uid, signal });
  }

  killMarked(markers: ReadonlySet<string>): Promise<Map<string, number[]>> {
    const id = ++this.next;
    const none = new Map([...markers].map((m) => [m, [] as number[]]));
    return new Promise((resolve) => {
      this.sweeps.set(id, resolve);
      if (this.send({ pypages: 'sweep', id, markers: [...markers] })) return;
      this.sweeps.delete(id);
      resolve(none);
    });
  }

  probe(file: string): Promise<Probed | null> {
    const id = ++this.next;
    return new Promise((resolve) => {
      this.probes.set(id, resolve);
      if (this.send({ pypages: 'probe', id, file })) return;
      this.probes.delete(id);
      resolve(null);
    });
  }

  private onMessage(m: Message, handle: unknown): void {
    const id = Number(m?.id);
    if (m?.pypages === 'started') this.update(id, (p) => ([p.pid, p.socketPath] = [Number(m.pid), String(m.socket)]));
    else if (m?.pypages === 'pipe') this.update(id, (p) => p.pipes.set(String(m.fd), handle));
    else if (m?.pypages === 'start-failed') this.failed(id, String(m.error));
    else if (m?.pypages === 'exited') this.exited(id, m.code as number | null, m.signal as NodeJS.Signals | null);
    else if (m?.pypages === 'probed') this.probed(id, m.result as Probed | null);
    else if (m?.pypages === 'swept') {
      this.sweeps.get(id)?.(new Map(m.killed as [string, number[]][]));
      this.sweeps.delete(id);
    }
  }

  /** A start's news; once its pid and every pipe are here, the process is handed over. */
  private update(id: number, change: (p: Pending) => void): void {
    const p = this.pending.get(id);
    if (!p) return;
    change(p);
    const wanted = p.request.fork ? [...PIPES, 'socket'] : PIPES;
    if (p.pid === undefined || !wanted.every((fd) => p.pipes.has(fd))) return;
    this.pending.delete(id);
    const [stdout, stderr, input, output] = PIPES.map((fd) => p.pipes.get(fd)) as [
      Readable,
      Readable,
      Writable,
      Readable,
    ];
    const proc = new RemoteProcess(p.pid, { stdout, stderr, input, output }, (signal) =>
      this.send({ pypages: 'kill', id, signal }),
    );
    this.running.set(id, proc);
    const handle = p.pipes.get('socket') as object | undefined;
    const socket = handle ? listenable(p.socketPath ?? '', handle) : null;
    p.resolve({ proc, socket });
  }

  private probed(id: number, result: Probed | null): void {
    const resolve = this.probes.get(id);
    this.probes.delete(id);
    if (!result?.error) return resolve?.(result);
    resolve?.({ ...result, error: Object.assign(new Error(String(result.error.message)), result.error) });
  }

  private failed(id: number, error: string): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    for (const pipe of p.pipes.values()) (pipe as { destroy?(): void }).destroy?.();
    p.reject(new Error(error));
  }

  private exited(id: number, code: number | null, signal: NodeJS.Signals | null): void {
    this.running.get(id)?.exited(code, signal);
    this.running.delete(id);
  }

  private send(message: Message): boolean {
    if (!this.launcher.connected) return false;
    try {
      this.launcher.send(message);
      return true;
    } catch {
      return false; // the channel closed meanwhile: the child is stopping
    }
  }
}

/**
 * The fork server's socket, bound by the launcher. Node listens on a copy of
 * its fd (server.listen makes a handle of its own from a pipe handle's fd),
 * so the handle received is left open, never closed: closing it would close
 * the fd under the listener. The launcher removes the folder.
 */
function listenable(path: string, handle: object): ForkSocket {
  return { path, listen: (server: Server) => listenOn(server, handle), remove: () => {} };
}

/** The launcher's child, seen from here: its pipes, its exit as the launcher reports it. */
class RemoteProcess extends EventEmitter implements PythonProcess {
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly input: Writable;
  readonly output: Readable;

  constructor(
    readonly pid: number,
    pipes: { stdout: Readable; stderr: Readable; input: Writable; output: Readable },
    private readonly sendKill: (signal: NodeJS.Signals) => void,
  ) {
    super();
    ({ stdout: this.stdout, stderr: this.stderr, input: this.input, output: this.output } = pipes);
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.exitCode === null && this.signalCode === null) this.sendKill(signal);
  }

  exited(code: number | null, signal: NodeJS.Signals | null): void {
    [this.exitCode, this.signalCode] = [code, signal];
    this.emit('exit', code, signal);
  }
}

/** A process that never started, for the callers that expect one: it emits 'error' with `reason`, its streams empty. */
export function failedProcess(reason: string): PythonProcess {
  const ended = () => new PassThrough().end();
  const proc = Object.assign(new EventEmitter(), {
    pid: undefined,
    stdout: ended(),
    stderr: ended(),
    input: new PassThrough(),
    output: ended(),
    exitCode: null,
    signalCode: null,
    kill: () => {},
  });
  setImmediate(() => proc.emit('error', new Error(reason)));
  return proc;
}
