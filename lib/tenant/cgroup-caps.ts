// The files and values that set a tenant's caps in its cgroup folder, in the
// order they must be written. A cap of 0 writes the kernel's "no limit", so
// updating an existing tenant to 0 lifts its cap.
import type { Controller } from './cgroup-mounts.js';

/** A tenant's total: memory in bytes, CPU in percent of one core (100 = one core), processes; 0 = no cap. */
export interface TenantCaps {
  readonly memory: number;
  readonly cpuPercent: number;
  readonly pids: number;
}

/** The CFS period both versions use: a quota is a share of each 100 ms. */
export const CPU_PERIOD_US = 100_000;
/** The kernel's smallest quota (1 ms per period). */
const MIN_QUOTA_US = 1000;

export type Write = readonly [file: string, value: string];

/** A cap as a whole number, or an error naming it (settings validate; this guards the kernel files). */
function whole(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new Error(`the ${name} cap ${value} is not a number >= 0`);
  return Math.floor(value);
}

/** The CFS quota in µs per period, 0 for none; a fraction of a percent is still a cap. */
function quota(caps: TenantCaps): number {
  whole('cpu', caps.cpuPercent);
  if (caps.cpuPercent === 0) return 0;
  return Math.max(MIN_QUOTA_US, Math.round((caps.cpuPercent * CPU_PERIOD_US) / 100));
}

/**
 * v1 memory. The memory+swap limit (memsw, present when the kernel accounts
 * swap) must stay >= the memory limit at every step, so it is opened first,
 * then both are set to the cap: the tenant's RAM and swap together stay
 * under it. Without memsw, swappiness 0 keeps the group from swapping, and
 * an uncapped group gets back the server's own swappiness. The OOM killer
 * stays on: at the cap, the kernel kills within the group.
 */
function v1Memory(caps: TenantCaps, server: (file: string) => string | null): Write[] {
  const bytes = whole('memory', caps.memory);
  const limit = bytes ? String(bytes) : '-1';
  const writes: Write[] = [];
  if (server('memory.memsw.limit_in_bytes') !== null) writes.push(['memory.memsw.limit_in_bytes', '-1']);
  writes.push(['memory.limit_in_bytes', limit]);
  if (server('memory.memsw.limit_in_bytes') !== null) {
    if (bytes) writes.push(['memory.memsw.limit_in_bytes', limit]);
  } else {
    const swappiness = server('memory.swappiness');
    if (swappiness !== null) writes.push(['memory.swappiness', bytes ? '0' : swappiness.trim() || '60']);
  }
  return writes;
}

function v1Writes(controller: Controller, caps: TenantCaps, server: (file: string) => string | null): Write[] {
  if (controller === 'memory') return v1Memory(caps, server);
  if (controller === 'pids') return [['pids.max', String(whole('pids', caps.pids) || 'max')]];
  const us = quota(caps);
  return [
    ['cpu.cfs_period_us', String(CPU_PERIOD_US)],
    ['cpu.cfs_quota_us', us ? String(us) : '-1'],
  ];
}

/** v2: memory.swap.max (where the kernel accounts swap) 0 keeps a capped tenant out of swap. */
function v2Writes(controller: Controller, caps: TenantCaps, server: (file: string) => string | null): Write[] {
  if (controller === 'pids') return [['pids.max', String(whole('pids', caps.pids) || 'max')]];
  if (controller === 'cpu') return [['cpu.max', `${quota(caps) || 'max'} ${CPU_PERIOD_US}`]];
  const bytes = whole('memory', caps.memory);
  const writes: Write[] = [['memory.max', bytes ? String(bytes) : 'max']];
  if (server('memory.swap.max') !== null) writes.push(['memory.swap.max', bytes ? '0' : 'max']);
  return writes;
}

/**
 * The writes setting `caps` on a tenant's folder in a hierarchy of
 * `controllers`; `server(file)` reads a file of the server's own folder in
 * that hierarchy (null when absent), which tells which optional files the kernel offers.
 */
export function capWrites(
  version: 1 | 2,
  controllers: readonly Controller[],
  caps: TenantCaps,
  server: (file: string) => string | null,
): Write[] {
  const writes = version === 1 ? v1Writes : v2Writes;
  return controllers.flatMap((c) => writes(c, caps, server));
}

/** Caps as a log reads them: "memory 64M, cpu 20%, pids 8" ("none" for 0). */
export function capsText(caps: TenantCaps): string {
  const memory = caps.memory ? `${Math.round(caps.memory / 1048576)}M` : 'none';
  return `memory ${memory}, cpu ${caps.cpuPercent ? `${caps.cpuPercent}%` : 'none'}, pids ${caps.pids || 'none'}`;
}
