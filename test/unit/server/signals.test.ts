import { describe, expect, it } from 'vitest';
import { coalesced } from '../../../server/signals.js';

describe('coalesced reloads', () => {
  it('runs one at a time, and a burst during one makes exactly one more', async () => {
    let running = 0;
    let most = 0;
    let runs = 0;
    const gates: (() => void)[] = [];
    const reload = coalesced(async () => {
      runs++;
      most = Math.max(most, ++running);
      await new Promise<void>((r) => gates.push(r));
      running--;
    });
    reload();
    for (let i = 0; i < 40; i++) reload(); // the burst, while the first runs
    expect(runs).toBe(1);
    gates.shift()!();
    await new Promise((r) => setImmediate(r));
    expect(runs).toBe(2);
    gates.shift()!();
    await new Promise((r) => setImmediate(r));
    expect([runs, most, gates.length]).toEqual([2, 1, 0]);
    reload(); // after the burst is over: a reload of its own
    expect(runs).toBe(3);
    gates.shift()!();
  });
});
