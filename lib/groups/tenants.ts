// The caps on a tenant as a whole (tenant-max-workers, tenant-max-requests)
// and the count of its requests running or waiting. A tenant is the user its
// groups run as (started as root), else their site (lib/tenant/identity.ts).
// The caps are per-group settings, so two groups of one tenant may give
// different values: the smallest non-zero one binds the tenant, since the
// operator who set it on any of them meant the tenant to stay under it.

/** What a group tells of its tenant (a GroupSpec is one). */
export interface TenantOfGroup {
  readonly tenant: string;
  readonly tenancy: { readonly tenantMaxWorkers: number; readonly tenantMaxRequests: number };
}

export interface TenantCaps {
  /** Live worker processes (0: only max-workers). */
  workers: number;
  /** Requests running or waiting (0: none). */
  requests: number;
}

/** The smaller cap of two, 0 meaning none. */
export function tighter(a: number, b: number): number {
  if (a === 0) return b;
  return b === 0 ? a : Math.min(a, b);
}

/** Each tenant's caps, from the groups met so far of the current configuration. */
export class CapTable {
  private readonly caps = new Map<string, TenantCaps>();

  /** Takes `group`'s caps into its tenant's. */
  note(group: TenantOfGroup): void {
    const { tenantMaxWorkers, tenantMaxRequests } = group.tenancy;
    const had = this.caps.get(group.tenant) ?? { workers: 0, requests: 0 };
    this.caps.set(group.tenant, {
      workers: tighter(had.workers, tenantMaxWorkers),
      requests: tighter(had.requests, tenantMaxRequests),
    });
  }

  of(tenant: string): TenantCaps {
    return this.caps.get(tenant) ?? { workers: 0, requests: 0 };
  }

  /** A reload: the groups, and so the caps, are made anew. */
  clear(): void {
    this.caps.clear();
  }
}

/**
 * Requests of each tenant running or waiting (in a group's line or for a
 * process). Kept across reloads: a request that began under the old
 * configuration still holds its place until it ends.
 */
export class RequestCounts {
  private readonly counts = new Map<string, number>();

  /** Counts a request of `tenant` in, unless `cap` (0: none) are already in: then false, and nothing counted. */
  enter(tenant: string, cap: number): boolean {
    const n = this.counts.get(tenant) ?? 0;
    if (cap > 0 && n >= cap) return false;
    this.counts.set(tenant, n + 1);
    return true;
  }

  /** A request counted in by enter() ended, however it ended. */
  leave(tenant: string): void {
    const n = (this.counts.get(tenant) ?? 0) - 1;
    if (n > 0) this.counts.set(tenant, n);
    else this.counts.delete(tenant); // no entry for a tenant with none: the map does not grow with every tenant ever seen
  }

  of(tenant: string): number {
    return this.counts.get(tenant) ?? 0;
  }

  /** Every tenant with requests in, and how many. */
  all(): [tenant: string, requests: number][] {
    return [...this.counts];
  }
}
