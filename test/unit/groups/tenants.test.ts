// Cap accounting for tenants: the smallest non-zero cap of a tenant's groups
// binds it, and its requests are counted in and out without leaking.
import { describe, expect, it } from 'vitest';
import { CapTable, RequestCounts, tighter } from '../../../lib/groups/tenants.js';

const group = (tenant: string, tenantMaxWorkers: number, tenantMaxRequests: number) => ({
  tenant,
  tenancy: { tenantMaxWorkers, tenantMaxRequests },
});

describe('tighter', () => {
  it('is the smaller cap, 0 meaning none', () => {
    expect(tighter(0, 0)).toBe(0);
    expect(tighter(0, 3)).toBe(3);
    expect(tighter(5, 0)).toBe(5);
    expect(tighter(5, 3)).toBe(3);
  });
});

describe('CapTable', () => {
  it('gives each tenant the smallest non-zero cap of its groups, each cap on its own', () => {
    const caps = new CapTable();
    expect(caps.of('site:a')).toEqual({ workers: 0, requests: 0 });
    caps.note(group('site:a', 0, 10));
    caps.note(group('site:a', 4, 0));
    caps.note(group('site:a', 2, 20));
    caps.note(group('site:b', 0, 0));
    expect(caps.of('site:a')).toEqual({ workers: 2, requests: 10 });
    expect(caps.of('site:b')).toEqual({ workers: 0, requests: 0 });
    caps.clear();
    expect(caps.of('site:a')).toEqual({ workers: 0, requests: 0 });
  });
});

describe('RequestCounts', () => {
  it('refuses past the cap, counts nothing for a refusal, and comes back to none', () => {
    const counts = new RequestCounts();
    expect(counts.enter('user:alice', 2)).toBe(true);
    expect(counts.enter('user:alice', 2)).toBe(true);
    expect(counts.enter('user:alice', 2)).toBe(false);
    expect(counts.enter('user:bob', 2)).toBe(true); // another tenant is not held by alice's count
    expect(counts.of('user:alice')).toBe(2);
    counts.leave('user:alice');
    expect(counts.enter('user:alice', 2)).toBe(true);
    counts.leave('user:alice');
    counts.leave('user:alice');
    counts.leave('user:bob');
    expect(counts.of('user:alice')).toBe(0);
    expect(counts.all()).toEqual([]); // no entry kept for tenants with none
  });

  it('never refuses with no cap', () => {
    const counts = new RequestCounts();
    for (let i = 0; i < 1000; i++) expect(counts.enter('site:x', 0)).toBe(true);
    expect(counts.of('site:x')).toBe(1000);
  });
});
