// Who gets a process slot, with stand-in groups and processes (the real
// ones are exercised by test/integration/tenant-caps.test.ts): the caps
// hold, a capped tenant only makes room among its own, and freed slots go
// round the tenants in turn.
import { describe, expect, it } from 'vitest';
import type { Group } from '../../../lib/groups/group.js';
import { Slots, TURN_MS } from '../../../lib/groups/slots.js';

interface FakeWorker {
  alive: boolean;
  retiring: boolean;
  startedAt: number;
  inflight: number;
}

/** A group of `tenant` with `n` processes, busy (a request in flight on each) or idle, started long ago. */
function group(label: string, tenant: string, n: number, busy: boolean) {
  const workers: FakeWorker[] = [...Array(n)].map(() => ({
    alive: true,
    retiring: false,
    startedAt: Date.now() - 10 * TURN_MS,
    inflight: busy ? 1 : 0,
  }));
  const g = {
    spec: { tenant, label },
    workers,
    lastUsed: Date.now() - 10 * TURN_MS,
    get idle() {
      return workers.every((w) => w.inflight === 0);
    },
    retire: (w: FakeWorker) => void (w.retiring = true),
  };
  return g;
}
type FakeGroup = ReturnType<typeof group>;
const real = (g: FakeGroup) => g as unknown as Group;

function slots(groups: FakeGroup[], maxWorkers: number, caps: Record<string, number> = {}) {
  return new Slots({
    maxWorkers,
    tenantCap: (t) => caps[t] ?? 0,
    all: () => groups as unknown as Group[],
    current: () => groups as unknown as Group[],
  });
}

/** Ends the retiring processes, as their exits would; the slots are told. */
function exitRetiring(groups: FakeGroup[], s: Slots): void {
  for (const g of groups) {
    for (const w of g.workers) if (w.retiring) w.alive = false;
    g.workers.splice(0, g.workers.length, ...g.workers.filter((w) => w.alive));
  }
  s.released();
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('Slots', () => {
  it("grants at once while there is room, never past a tenant's cap, and makes room only among its own", async () => {
    const a1 = group('a1', 'A', 1, true);
    const a2 = group('a2', 'A', 0, false);
    const b1 = group('b1', 'B', 1, false); // idle for long: any tenant's for the taking, but not for A at its cap
    const groups = [a1, a2, b1];
    const s = slots(groups, 10, { A: 1 });
    let granted = false;
    void s.reserve(real(a2), Date.now() + 60_000).then((ok) => (granted = ok));
    await tick();
    expect(granted).toBe(false);
    expect(b1.workers[0].retiring).toBe(false);
    expect(a1.workers[0].retiring).toBe(true); // A's own busy process, past its turn, retires for a2
    exitRetiring(groups, s);
    await tick();
    expect(granted).toBe(true);
    expect(s.heldBy('A')).toBe(1); // a2's reservation: still one process of A
    expect(await s.reserve(real(b1), Date.now() + 60_000)).toBe(true); // B is not held to A's cap
  });

  it('serves the waiting round the tenants, not first come first served', async () => {
    const holder = group('x', 'X', 1, true);
    const waiting = [group('a1', 'A', 0, false), group('a2', 'A', 0, false), group('a3', 'A', 0, false)];
    const b = group('b', 'B', 0, false);
    const groups = [holder, ...waiting, b];
    const s = slots(groups, 1);
    const order: string[] = [];
    for (const g of [...waiting, b]) void s.reserve(real(g), Date.now() + 60_000).then(() => order.push(g.spec.label));
    await tick();
    // One slot, handed on each time: whoever got it gives it back at once.
    for (let i = 0; i < 4; i++) {
      exitRetiring(groups, s);
      await tick();
      s.unreserve(real(groups.find((g) => g.spec.label === order.at(-1))!));
      await tick();
    }
    expect(order).toEqual(['a1', 'b', 'a2', 'a3']);
  });

  it('answers false at the deadline, and the one waiting is gone', async () => {
    const holder = group('x', 'X', 1, true);
    holder.workers[0].startedAt = Date.now(); // its turn has just begun, and nobody else may stop it
    const s = slots([holder, group('y', 'X', 1, false)], 1);
    expect(await s.reserve(real(holder), Date.now() + 30)).toBe(false);
  });
});
