// A group's waiting requests: woken together and in order, or let go at their deadline.
import { describe, expect, it } from 'vitest';
import { WakeList } from '../../../lib/groups/wake-list.js';

describe('WakeList', () => {
  it('wakes everyone waiting, in the order they came, and only them', async () => {
    const line = new WakeList();
    const order: number[] = [];
    const far = Date.now() + 60_000;
    const waits = [1, 2, 3].map(async (n) => {
      const ok = await line.wait(far);
      order.push(n);
      return ok;
    });
    line.wake();
    expect(await Promise.all(waits)).toEqual([true, true, true]);
    expect(order).toEqual([1, 2, 3]);
    const later = line.wait(Date.now() + 60_000);
    line.wake();
    expect(await later).toBe(true);
  });

  it('lets a waiter go with false once its deadline has passed, and a later wake does not touch it', async () => {
    const line = new WakeList();
    expect(await line.wait(Date.now() - 1)).toBe(false);
    const stays = line.wait(Date.now() + 60_000);
    line.wake();
    expect(await stays).toBe(true);
  });
});
