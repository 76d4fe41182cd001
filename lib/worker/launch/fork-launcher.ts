// The launch policy over fork servers (lib/worker/launch/forkserver.ts): one per
// interpreter path, kept running. A fork server that dies, or is declared
// dead for not answering its pings, is replaced: at once the first time,
// then after 1, 2, 4 ... up to 30 s while it keeps dying (a crash loop must
// not cost a Python start every few milliseconds). Meanwhile its workers are
// spawned, so no request waits for it; the launches after it is back fork
// again. One that lived RESET_AFTER_MS is forgotten as a failure.

import { VETTED } from '../../tenant/launch-policy.js';
import type { Logger } from '../../util/log.js';
import type { RunAs } from '../../tenant/identity.js';
import { rootSide } from '../../tenant/root-side.js';
import { ForkServer, type ForkServerOptions } from './forkserver.js';
import { spawnWorkerProcess, type Launcher, type WorkerProcess } from './spawn.js';

const MAX_DELAY_MS = 30_000;
const RESET_AFTER_MS = 60_000;
// Exit codes of the fork server that a new start would only repeat (lib/python/pypages_worker/exits.py):
// USAGE (2), a bad command line; THREADS (4), the shared preload started a thread.
const HOPELESS = /exited with code (2|4)\b/;

/** What forkingLauncher returns: the launcher, and the fork servers' lifecycle. */
export interface ForkingLauncher {
  launch: Launcher;
  /** Starts the fork server for this interpreter now rather than at its first launch; never rejects. */
  warm(python: string): Promise<void>;
  /** Stops every fork server; later launches spawn. Call after the workers are stopped. */
  close(): Promise<void>;
}

/**
 * A launcher that forks workers from one fork server per interpreter path
 * (started at its first launch, which waits for it), and spawns them instead
 * where forking is not possible: on Windows, for env extras only a new
 * interpreter reads, and while that interpreter's fork server is being
 * (re)started after its first start.
 */
export function forkingLauncher(opts: { sharedPreload: readonly string[]; log: Logger }): ForkingLauncher {
  const slots = new Map<string, Slot>();
  let closed = false;
  const slotFor = (python: string, runAs: RunAs | null, where: Pick<ForkServerOptions, 'cgroup' | 'tenant'> = {}) => {
    const key = runAs ? `${python}\0${runAs.uid}:${runAs.gid}:${runAs.groups.join(',')}` : python;
    const slot =
      slots.get(key) ?? new Slot({ python, runAs, ...where, sharedPreload: opts.sharedPreload, log: opts.log });
    return slots.set(key, slot).get(key)!;
  };
  const launch: Launcher = async (o) => {
    if (closed || process.platform === 'win32' || needsFreshInterpreter(o.env)) return spawnWorkerProcess(o);
    const server = await slotFor(o.python, o.runAs ?? null, { cgroup: o.cgroup, tenant: o.tenant }).server();
    return server?.alive ? forkOrSpawn(server, o, opts.log) : spawnWorkerProcess(o);
  };
  return {
    launch,
    // As the server's own user: a server that gave up root has none to warm (root pages start theirs when asked).
    warm: async (python) =>
      void (process.platform !== 'win32' && !closed && !rootSide() && (await slotFor(python, null).server())),
    async close() {
      closed = true;
      await Promise.all([...slots.values()].map((s) => s.close()));
    },
  };
}

/** Forks the worker, or spawns it if the fork fails. */
async function forkOrSpawn(server: ForkServer, o: Parameters<Launcher>[0], log: Logger): Promise<WorkerProcess> {
  try {
    return await server.launch(o);
  } catch (err) {
    if (server.alive) log.error(`${o.tag}: ${(err as Error).message}; spawning the worker instead`);
    return spawnWorkerProcess(o);
  }
}

/** The fork server of one interpreter path and user, restarted with backoff whenever it dies. */
class Slot {
  private current: ForkServer | null = null;
  private first: Promise<ForkServer | null>;
  private starting: Promise<unknown> | null = null;
  private failures = 0; // deaths and failed starts in a row
  private starts = 0;
  private startedAt = 0;
  private retry: NodeJS.Timeout | null = null;
  private closed = false;

  private readonly python: string;
  private readonly log: Logger;

  constructor(private readonly opts: ForkServerOptions) {
    this.python = opts.python + (opts.runAs ? ` as ${opts.runAs.user}` : '');
    this.log = opts.log;
    this.first = this.start();
  }

  /** The running fork server: the first start is waited for, later ones are not (null meanwhile). */
  async server(): Promise<ForkServer | null> {
    await this.first;
    return this.current?.alive ? this.current : null;
  }

  /** Stops its fork server, after a start under way has finished; no restart follows. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    await this.starting;
    await this.current?.close();
  }

  private start(): Promise<ForkServer | null> {
    this.starts++;
    const started = ForkServer.start(this.opts).then(
      (server) => this.adopt(server),
      (err: Error) => this.failed(err),
    );
    this.starting = started.finally(() => (this.starting = null));
    return started;
  }

  private adopt(server: ForkServer): ForkServer | null {
    this.current = server;
    if (this.closed) return null; // close(), waiting for this start, stops it
    if (this.starts > 1)
      this.log.info(
        `the fork server for ${this.python} is running again (pid ${server.pid}): workers are forked again`,
      );
    this.startedAt = Date.now();
    server.once('exit', (how: string) => this.died(server, how));
    return server;
  }

  private died(server: ForkServer, how: string): void {
    if (this.closed || this.current !== server) return;
    this.current = null;
    this.failures = Date.now() - this.startedAt >= RESET_AFTER_MS ? 1 : this.failures + 1;
    const delay = this.delay();
    this.log.error(
      `the fork server for ${this.python} (pid ${server.pid}) ${how}; ` +
        `${delay ? `starting a new one in ${delay / 1000} s` : 'starting a new one'}, its workers are spawned meanwhile`,
    );
    this.schedule(delay);
  }

  private failed(err: Error): null {
    if (this.closed) return null;
    if (HOPELESS.test(err.message)) {
      this.log.error(`cannot start a fork server for ${this.python} (${err.message}); its workers are spawned instead`);
      return null;
    }
    this.failures++;
    const delay = Math.max(this.delay(), 1000); // a failed start is never retried at once
    this.log.error(
      `cannot start a fork server for ${this.python} (${err.message}); its workers are spawned, and a new start is tried in ${delay / 1000} s`,
    );
    this.schedule(delay);
    return null;
  }

  /** 0 for the first failure in a row, then 1, 2, 4 ... s, at most MAX_DELAY_MS. */
  private delay(): number {
    return this.failures <= 1 ? 0 : Math.min(MAX_DELAY_MS, 1000 * 2 ** (this.failures - 2));
  }

  private schedule(delay: number): void {
    this.retry = setTimeout(() => {
      this.retry = null;
      if (!this.closed) void this.start();
    }, delay);
    this.retry.unref();
  }
}

/** Environment variables read only when an interpreter starts: a forked child cannot take them on. */
/**
 * Variables Python reads at start need a fresh interpreter. With a root launcher, so do those it vets
 * (VETTED): a tenant's fork server lets a forked worker take one only with its own start's value.
 */
function needsFreshInterpreter(env: Record<string, string>): boolean {
  const vetted = rootSide() !== null;
  return Object.keys(env).some((k) => /^(PYTHON|LD_|MALLOC_)/.test(k) || (vetted && VETTED.test(k)));
}
