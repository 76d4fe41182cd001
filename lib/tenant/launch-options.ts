// How a group's workers are launched: its spec's settings, and from its tenancy the user, the umask and
// the per-worker kernel limits (limit-* settings), as the worker takes them
// on its command line (lib/python/pypages_worker/limits.py): NAME=N, only
// those set. CPU seconds round up: the kernel counts whole seconds.
import type { GroupSpec } from '../groups/spec.js';
import type { Logger } from '../util/log.js';
import type { TenantCaps } from './cgroups.js';
import type { LaunchOptions } from '../worker/launch/spawn.js';

/** How a worker of `spec` is launched; throws for a group refused to run (lib/tenant/identity.ts). */
export function launchOptions(spec: GroupSpec, preload: string[], log: Logger): LaunchOptions {
  if (spec.identity.kind === 'refused') throw new Error(`refused to run: ${spec.identity.reason}`);
  return {
    python: spec.python,
    root: spec.site.root,
    cwd: spec.cwd,
    threads: spec.threads,
    processes: spec.processes,
    env: spec.env,
    pythonPath: spec.pythonPath,
    preload,
    tag: spec.label,
    log,
    runAs: spec.identity.kind === 'user' ? spec.identity.runAs : null,
    umask: spec.tenancy.umask,
    limits: kernelLimits(spec.tenancy),
    tenant: spec.identity.kind === 'user' ? { name: spec.tenant, caps: tenantCaps(spec.tenancy) } : undefined,
  };
}

export function kernelLimits(tenancy: GroupSpec['tenancy']): string[] {
  const limits: [string, number][] = [
    ['as', tenancy.limitMemory],
    ['cpu', Math.ceil(tenancy.limitCpu)],
    ['nproc', tenancy.limitProcesses],
    ['nofile', tenancy.limitOpenFiles],
    ['fsize', tenancy.limitFileSize],
  ];
  return limits.filter(([, n]) => n > 0).map(([name, n]) => `${name}=${n}`);
}

function tenantCaps(t: GroupSpec['tenancy']): TenantCaps {
  return { memory: t.tenantMemory, cpuPercent: t.tenantCpu, pids: t.tenantProcesses };
}
