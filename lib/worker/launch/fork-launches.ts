// The launches a fork server has under way, from its "fork" command until
// the child has made its connections (./forkserver-protocol.md, "A forked
// child's connections"): the token that names each launch, the child the
// zygote reports for it, and its three sockets, F (frames), O (stdout) and
// E (stderr). A launch settles once all four are there, or fails with the reason.

import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { ProcessId } from '../../util/process-identity.js';
import { CONNECTION_HEADER_BYTES, readConnectionHeader, TOKEN_LENGTH } from './control.js';
import { ForkedProcess } from './forked-process.js';
import type { LaunchOptions } from './spawn.js';
import { signalProcess } from './start-python.js';

/** From "fork" to every connection of the child. */
export const CONNECT_TIMEOUT_MS = 10_000;
/** A child that exited at once may still have connected: its output explains why. */
const EXIT_GRACE_MS = 200;

interface Launch {
  opts: LaunchOptions;
  proc?: ForkedProcess;
  frames?: Socket;
  output?: Socket;
  errors?: Socket;
  settle(err: Error | null, proc?: ForkedProcess): void;
}

export class ForkLaunches {
  private readonly launches = new Map<string, Launch>();

  /** A new launch: its token, and its child once the child is connected (rejects after CONNECT_TIMEOUT_MS, or on fail()). */
  begin(opts: LaunchOptions): { token: string; child: Promise<ForkedProcess> } {
    const token = randomBytes(TOKEN_LENGTH / 2).toString('hex');
    const child = new Promise<ForkedProcess>((resolve, reject) => {
      const timer = setTimeout(
        () => this.fail(token, `the forked worker did not connect within ${CONNECT_TIMEOUT_MS / 1000} s`),
        CONNECT_TIMEOUT_MS,
      );
      this.launches.set(token, {
        opts,
        settle: (err, proc) => {
          clearTimeout(timer);
          this.launches.delete(token);
          if (err) reject(err);
          else resolve(proc!);
        },
      });
    });
    return { token, child };
  }

  /** The zygote forked the launch `token`'s child: the process, or null (and the child killed) if the launch already gave up. */
  forked(token: string, id: ProcessId): ForkedProcess | null {
    const launch = this.launches.get(token);
    if (!launch) {
      signalProcess(id, 'SIGKILL');
      return null;
    }
    launch.proc = new ForkedProcess(id, launch.opts.tag, launch.opts.log);
    this.complete(launch);
    return launch.proc;
  }

  /** A forked child ended: a launch still waiting for its connections fails, a moment later (they may be queued behind this news, with output that says why). */
  exited(proc: ForkedProcess, how: string): void {
    for (const [token, launch] of this.launches) {
      if (launch.proc === proc)
        setTimeout(
          () => this.fail(token, `the forked worker (pid ${proc.pid}) ${how} before it connected`),
          EXIT_GRACE_MS,
        );
    }
  }

  /** Reads a connection's header (token + kind), then hands it to its launch; closes what is not one of ours. */
  connection(socket: Socket): void {
    socket.on('error', () => {});
    const timer = setTimeout(() => socket.destroy(), CONNECT_TIMEOUT_MS);
    const onReadable = () => {
      const head = socket.read(CONNECTION_HEADER_BYTES) as Buffer | null;
      if (head === null) return;
      clearTimeout(timer);
      socket.off('readable', onReadable); // the socket stays paused until its user listens for 'data'
      const header = readConnectionHeader(head);
      const launch = header ? this.launches.get(header.token) : undefined;
      if (launch && header?.kind === 'F' && !launch.frames) launch.frames = socket;
      else if (launch && header?.kind === 'O' && !launch.output) launch.output = socket;
      else if (launch && header?.kind === 'E' && !launch.errors) launch.errors = socket;
      else return void socket.destroy(); // not one of ours, or a second connection of one kind
      this.complete(launch);
    };
    socket.on('readable', onReadable);
  }

  /** Fails the launch `token` (if still under way): its sockets closed, its child killed, its last output in the reason. */
  fail(token: string, reason: string): void {
    const launch = this.launches.get(token);
    if (!launch) return;
    launch.frames?.destroy();
    launch.output?.destroy();
    launch.errors?.destroy();
    if (launch.proc) {
      launch.proc.kill('SIGKILL');
      reason += launch.proc.tail.length ? `:\n${launch.proc.tail.join('\n')}` : '';
    }
    launch.settle(new Error(reason));
  }

  /** Fails every launch under way. */
  failAll(reason: string): void {
    for (const token of [...this.launches.keys()]) this.fail(token, reason);
  }

  private complete(launch: Launch): void {
    if (!launch.proc || !launch.frames || !launch.output || !launch.errors) return;
    launch.proc.attach(launch.frames, launch.output, launch.errors);
    launch.settle(null, launch.proc);
  }
}
