// Interpreter groups: which worker runs a script, starting it lazily, queueing
// requests beyond its threads, replacing it when its code changed on disk or
// it died. One group per script (mod_wsgi's default application group), so
// module state lives across requests and is never shared between scripts.

import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Job, Outcome } from './exchange.js';
import type { Logger } from './log.js';
import { Worker, type WatchedFile } from './worker.js';
import { spawnWorkerProcess } from './worker-process.js';

export interface GroupOptions {
  python: string;
  root: string;
  threads: number;
  log: Logger;
}

/** Owns every group; the only way requests reach a worker. */
export class GroupManager {
  private readonly groups = new Map<string, Group>();
  private closed = false;

  constructor(private readonly opts: GroupOptions) {}

  /** Runs a script request in its group's worker. Never rejects. */
  async run(job: Job): Promise<Outcome> {
    if (this.closed) return unavailable('the server is shutting down');
    let group = this.groups.get(job.script);
    if (!group) {
      group = new Group(job.script, this.opts);
      this.groups.set(job.script, group);
    }
    return group.run(job);
  }

  /** Stops every worker (in-flight requests fail as crashed). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.groups.values()].map((g) => g.close()));
  }

  get workerCount(): number {
    let n = 0;
    for (const g of this.groups.values()) n += g.liveWorkers;
    return n;
  }
}

function unavailable(message: string): Outcome {
  return { kind: 'error', status: 503, errorKind: 'unavailable', message, traceback: '' };
}

class Group {
  private worker: Worker | null = null;
  private starting: Promise<Worker> | null = null;
  private readonly waiting: (() => void)[] = [];
  private readonly all = new Set<Worker>();
  private baseline: WatchedFile[] = [];

  constructor(private readonly script: string, private readonly opts: GroupOptions) {}

  get liveWorkers(): number {
    return this.all.size;
  }

  async run(job: Job): Promise<Outcome> {
    try {
      await this.reloadIfChanged();
      return await this.dispatch(job);
    } catch (err) {
      this.opts.log.error(`request ${job.requestId}: cannot start a worker for ${this.script}: ${(err as Error).message}`);
      return { kind: 'error', status: 500, errorKind: 'start', message: (err as Error).message, traceback: '' };
    }
  }

  /** Runs the job on a worker with a free thread, started on first use; waits in line when all are busy. */
  private async dispatch(job: Job): Promise<Outcome> {
    if (this.waiting.length) await this.wait();
    for (;;) {
      const worker = this.worker ?? (await this.start());
      // handle() is called synchronously after the check, so no one else can take the slot in between.
      if (worker.alive && !worker.retiring && worker.inflight < this.opts.threads) return this.runOn(worker, job);
      await this.wait();
    }
  }

  private async runOn(worker: Worker, job: Job): Promise<Outcome> {
    const outcome = await worker.handle(job);
    // A failed import leaves a half-initialised interpreter: start afresh next time.
    if (outcome.kind === 'error' && outcome.errorKind === 'load') this.replace(worker);
    return outcome;
  }

  private wait(): Promise<void> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Something changed (a slot freed, a worker died): everyone waiting looks again, in order. */
  private wake(): void {
    for (const resolve of this.waiting.splice(0)) resolve();
  }

  private start(): Promise<Worker> {
    this.starting ??= this.spawn().finally(() => (this.starting = null));
    return this.starting;
  }

  private async spawn(): Promise<Worker> {
    this.baseline = await snapshot([this.script]);
    const launch = { ...this.opts, cwd: dirname(this.script), tag: this.script, processes: 1, env: {}, pythonPath: [], preload: [] };
    const worker = await Worker.start(await spawnWorkerProcess(launch), { tag: this.script, log: this.opts.log });
    this.all.add(worker);
    worker.on('watch', (files: WatchedFile[]) => worker === this.worker && (this.baseline = files));
    worker.on('slot', () => this.wake());
    worker.once('exit', () => {
      this.all.delete(worker);
      if (this.worker === worker) this.worker = null;
      this.wake();
    });
    this.worker = worker;
    return worker;
  }

  /** Retires the current worker when a file it imported changed: the next request runs the new code. */
  private async reloadIfChanged(): Promise<void> {
    if (!this.worker) return;
    const now = await snapshot(this.baseline.map((f) => f.path));
    if (now.some((f, i) => f.mtimeNs !== this.baseline[i].mtimeNs || f.size !== this.baseline[i].size)) {
      this.opts.log.info(`${this.script}: code changed on disk; starting a new worker`);
      this.replace(this.worker);
    }
  }

  private replace(worker: Worker): void {
    if (this.worker === worker) this.worker = null;
    worker.retire();
    this.wake();
  }

  async close(): Promise<void> {
    const exits = [...this.all].map((w) => new Promise((r) => (w.alive ? w.once('exit', r) : r(null))));
    for (const w of this.all) w.kill();
    await Promise.all(exits);
  }
}

/** mtime and size of each file now; a missing file reads as changed. */
async function snapshot(paths: string[]): Promise<WatchedFile[]> {
  return Promise.all(
    paths.map(async (path) => {
      try {
        const s = await stat(path, { bigint: true });
        return { path, mtimeNs: String(s.mtimeNs), size: Number(s.size) };
      } catch {
        return { path, mtimeNs: 'missing', size: -1 };
      }
    }),
  );
}
