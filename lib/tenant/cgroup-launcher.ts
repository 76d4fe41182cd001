// Tenants' workers in their cgroups: a launcher wrapper that, for a launch
// with a tenant, creates or updates the tenant's cgroups (tenant-memory,
// tenant-cpu, tenant-processes) and has the worker, or the tenant's fork
// server, enter them before it execs (lib/tenant/cgroup-enter.ts): a forked
// worker is in its fork server's cgroups from birth. Where two groups of one
// tenant give different caps, the smallest set one holds for the tenant.
// Without usable cgroups (not root, none mounted), launches are unchanged
// and the banner says tenants are bounded by per-process limits only.
import type { Logger } from '../util/log.js';
import type { Launcher } from '../worker/launch/spawn.js';
import { Cgroups, type TenantCaps } from './cgroups.js';
import { startedAsRoot } from './identity.js';
import { rootSide } from './root-side.js';

let servers = 0;

export class TenantCgroups {
  private readonly caps = new Map<string, TenantCaps>();

  /** `launcher`: the root launcher's cgroups (it makes and enters them; this one only merges caps), described so. */
  private constructor(
    private readonly cgroups: Cgroups | null,
    private readonly launcher: string | null = null,
  ) {}

  /** The machine's cgroups when started as root, else none; the launcher's when this server gave up root. */
  static detect(log: Logger): TenantCgroups {
    const side = rootSide();
    if (side) return new TenantCgroups(null, side.cgroups);
    const name = `pypages-${process.pid}-${servers++}`;
    return new TenantCgroups(startedAsRoot() ? Cgroups.detect({ log, name }) : null);
  }

  /** For the banner. */
  get describe(): string {
    return this.launcher ?? this.cgroups?.describe ?? 'none: tenants are bounded by per-process limits only';
  }

  /** `launch`, with each tenant's launches entering its cgroups (here, or by the launcher with the caps merged here). */
  wrap(launch: Launcher): Launcher {
    const { cgroups } = this;
    if (!cgroups && this.launcher === null) return launch;
    return (opts) => {
      if (!opts.tenant) return launch(opts);
      const caps = this.strictest(opts.tenant.name, opts.tenant.caps);
      if (!cgroups) return launch({ ...opts, tenant: { name: opts.tenant.name, caps } });
      return launch({ ...opts, cgroup: cgroups.enter(opts.tenant.name, caps) });
    };
  }

  /** Ends what is left in the tenants' cgroups (daemons that left their worker) and removes them. */
  close(): void {
    this.cgroups?.close();
  }

  private strictest(tenant: string, caps: TenantCaps): TenantCaps {
    const known = this.caps.get(tenant);
    const min = (a: number, b: number) => (a === 0 ? b : b === 0 ? a : Math.min(a, b));
    const merged = known
      ? {
          memory: min(known.memory, caps.memory),
          cpuPercent: min(known.cpuPercent, caps.cpuPercent),
          pids: min(known.pids, caps.pids),
        }
      : caps;
    this.caps.set(tenant, merged);
    return merged;
  }
}
