// Each tenant's workers in their own cgroup, so a tenant's total memory,
// CPU and processes are bounded, not only each process (issue 13). The
// server makes one folder of its own (`name`) in each hierarchy it uses and
// a folder per tenant below it; a worker enters its tenant's folders before
// exec (lib/tenant/cgroup-enter.ts). Where no cgroup is usable, detect()
// says why and returns null: the caller falls back to per-process limits.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../util/log.js';
import { capsText, capWrites, type TenantCaps } from './cgroup-caps.js';
import { CONTROLLERS, type Controller, type Layout, locateAt, locateSelf } from './cgroup-mounts.js';

export type { TenantCaps } from './cgroup-caps.js';
export { ENTER_SCRIPT, enterCommand } from './cgroup-enter.js';

/** A hierarchy in use: the server's own folder in it and what it controls. */
interface Used {
  readonly folder: string;
  readonly controllers: readonly Controller[];
}

export interface DetectOptions {
  /** A folder laid out as a cgroup mount (tests); else this process's cgroups from /proc. */
  readonly base?: string;
  readonly log: Logger;
  /** The server's folder in each hierarchy, e.g. `pypages-${process.pid}`. */
  readonly name: string;
}

/** A tenant ("user:alice", "site:default") as a folder name: readable, safe, and unique by a hash of the whole name. */
export function tenantFolder(tenant: string): string {
  const readable = tenant.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 40);
  return `t-${readable}-${createHash('sha256').update(tenant).digest('hex').slice(0, 10)}`;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

function errorCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function readOrNull(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** Writes one control file, with an error that names the file and the value. */
function writeControl(file: string, value: string): void {
  try {
    writeFileSync(file, value);
  } catch (err) {
    throw new Error(`writing "${value}" to ${file}: ${message(err)}`);
  }
}

/** mkdir that is content with a folder already there (creating is idempotent). */
function makeFolder(folder: string): void {
  try {
    mkdirSync(folder);
  } catch (err) {
    if (errorCode(err) !== 'EEXIST') throw new Error(`creating ${folder}: ${message(err)}`);
  }
}

/** v2: lets the children of `dir` use `controllers` (a no-op for those already enabled). */
function enableForChildren(dir: string, controllers: readonly Controller[]): void {
  const enabled = (readOrNull(path.join(dir, 'cgroup.subtree_control')) ?? '')
    .split(/\s+/)
    .map((c) => c.replace(/^\+/, ''));
  const missing = controllers.filter((c) => !enabled.includes(c));
  if (missing.length) writeControl(path.join(dir, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' '));
}

/** Makes the server's folders of a layout, or removes what it made and throws. */
function setUp(layout: Layout, name: string): Used[] {
  const made: string[] = [];
  try {
    return layout.hierarchies.map((h) => {
      if (layout.version === 2) enableForChildren(h.dir, h.controllers);
      const folder = path.join(h.dir, name);
      makeFolder(folder);
      made.push(folder);
      if (layout.version === 2) enableForChildren(folder, h.controllers);
      return { folder, controllers: h.controllers };
    });
  } catch (err) {
    for (const folder of made) removeQuietly(folder);
    throw err;
  }
}

function removeQuietly(folder: string): void {
  try {
    rmdirSync(folder);
  } catch {} // what close() cannot remove, it logs; here the original error is the one to report
}

/** Waits `ms` without returning to the event loop: close() runs at shutdown, synchronously. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const KILL_ROUNDS = 40; // x 25 ms: a fork loop racing the kills gets a second to lose
const RMDIR_ROUNDS = 20;

export class Cgroups {
  /** For the banner: "cgroup v1 (memory, cpu, pids)". */
  readonly describe: string;
  private closed = false;

  private constructor(
    private readonly version: 1 | 2,
    private readonly used: readonly Used[],
    private readonly log: Logger,
  ) {
    const controllers = CONTROLLERS.filter((c) => used.some((u) => u.controllers.includes(c)));
    this.describe = `cgroup v${version} (${controllers.join(', ')})`;
  }

  /** The usable cgroups with the most of memory, cpu and pids (v2 first on a tie), or null and an info line saying why. */
  static detect(opts: DetectOptions): Cgroups | null {
    const layouts = (opts.base === undefined ? locateSelf() : locateAt(opts.base))
      .map((layout, order) => ({ layout, order, count: layout.hierarchies.flatMap((h) => h.controllers).length }))
      .sort((a, b) => b.count - a.count || a.order - b.order);
    const reasons: string[] = [];
    for (const { layout } of layouts) {
      try {
        const cgroups = new Cgroups(layout.version, setUp(layout, opts.name), opts.log);
        cgroups.sweepStale();
        return cgroups;
      } catch (err) {
        reasons.push(`cgroup v${layout.version} at ${layout.hierarchies[0].dir}: ${message(err)}`);
      }
    }
    const why = reasons.length ? reasons.join('; ') : 'no memory, cpu or pids controller is mounted';
    opts.log.info(`cgroups: not used (${why}); tenants are bounded by per-process limits only`);
    return null;
  }

  /**
   * Creates or updates the tenant's cgroups with `caps`; returns the
   * cgroup.procs files a process writes its own pid to, to enter them (one
   * per v1 hierarchy, one for v2), or [] after logging why it could not.
   */
  enter(tenant: string, caps: TenantCaps): string[] {
    if (this.closed) return [];
    try {
      return this.used.map((u) => {
        const folder = path.join(u.folder, tenantFolder(tenant));
        makeFolder(folder);
        const server = (file: string) => readOrNull(path.join(u.folder, file));
        for (const [file, value] of capWrites(this.version, u.controllers, caps, server))
          writeControl(path.join(folder, file), value);
        return path.join(folder, 'cgroup.procs');
      });
    } catch (err) {
      this.log.error(
        `cgroups: cannot put tenant ${tenant} in its ${this.describe} with ${capsText(caps)}: ${message(err)}; ` +
          'its workers are bounded by per-process limits only',
      );
      return [];
    }
  }

  /** Pids still in a tenant's cgroups (daemons a page left behind). */
  pids(tenant: string): number[] {
    return this.pidsIn(this.used.map((u) => path.join(u.folder, tenantFolder(tenant))));
  }

  private pidsIn(folders: readonly string[]): number[] {
    const pids = new Set<number>();
    for (const folder of folders)
      for (const line of (readOrNull(path.join(folder, 'cgroup.procs')) ?? '').split('\n'))
        if (/^\d+$/.test(line) && Number(line) !== process.pid) pids.add(Number(line));
    return [...pids].sort((a, b) => a - b);
  }

  /**
   * Removes the folders of servers that are gone (a crash, a kill -9: close() never ran), killing what
   * their pages left in them. A folder is a server's by its name, `pypages-PID-N`, and gone when no
   * process has that pid; one whose pid is alive, even if reused by another program, is left alone.
   */
  sweepStale(): void {
    for (const u of this.used) {
      const siblings = subfolders(path.dirname(u.folder)).filter((f) => f !== u.folder);
      const stale = siblings.filter((f) => deadServerFolder(path.basename(f)));
      if (!stale.length) continue;
      const all = [...stale.flatMap(subfolders), ...stale];
      this.killAll(all);
      for (const folder of all) this.remove(folder);
      this.log.info(`cgroups: removed ${stale.join(', ')}, left by servers that are gone`);
    }
  }

  /** Kills what is left in the tenants' cgroups and removes the server's folders; never throws. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      const tenants = this.used.flatMap((u) => subfolders(u.folder));
      const all = [...tenants, ...this.used.map((u) => u.folder)];
      this.killAll(all);
      for (const folder of all) this.remove(folder);
    } catch (err) {
      this.log.error(`cgroups: closing ${this.describe}: ${message(err)}`);
    }
  }

  /** SIGKILLs every process in `folders` until none is left (a fork loop can race a round); bounded. */
  private killAll(folders: readonly string[]): void {
    for (let round = 0; round < KILL_ROUNDS; round++) {
      const left = this.pidsIn(folders);
      if (left.length === 0) return;
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {} // gone already
      }
      sleepSync(25);
    }
    this.log.error(`cgroups: processes ${this.pidsIn(folders).join(', ')} outlived SIGKILL for a second`);
  }

  /** rmdir, retried while the kernel still counts an exiting process in it (EBUSY). */
  private remove(folder: string): void {
    for (let round = 1; ; round++) {
      try {
        rmdirSync(folder);
        return;
      } catch (err) {
        if (errorCode(err) === 'ENOENT') return;
        if (errorCode(err) !== 'EBUSY' || round === RMDIR_ROUNDS) {
          this.log.error(`cgroups: could not remove ${folder}: ${message(err)}; remove it with rmdir`);
          return;
        }
        sleepSync(25);
      }
    }
  }
}

/** Whether `name` is a server's folder (`pypages-PID-N`, lib/tenant/cgroup-launcher.ts) whose process is gone. */
function deadServerFolder(name: string): boolean {
  const pid = /^pypages-(\d+)-\d+$/.exec(name)?.[1];
  if (!pid || Number(pid) === process.pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    return errorCode(err) === 'ESRCH';
  }
}

/** The child cgroups of a folder (in a cgroup filesystem, the only folders in it). */
function subfolders(folder: string): string[] {
  try {
    return readdirSync(folder, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => path.join(folder, e.name));
  } catch {
    return [];
  }
}
