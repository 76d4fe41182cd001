// The round-robin chooser: who is served next among those waiting, by tenant.
import { describe, expect, it } from 'vitest';
import { TurnQueue } from '../../../lib/groups/turns.js';

/** Serves everything, the first that `ok` allows each time, and returns the order. */
function drain(q: TurnQueue<string>, ok: (item: string) => boolean = () => true): string[] {
  const order: string[] = [];
  for (let next = q.next(ok); next; next = q.next(ok)) {
    q.serve(...next);
    order.push(next[1]);
  }
  return order;
}

describe('TurnQueue', () => {
  it('serves tenants in turn, not in order of arrival: a flood does not push another tenant back', () => {
    const q = new TurnQueue<string>();
    for (let i = 1; i <= 5; i++) q.push('A', `a${i}`);
    q.push('B', 'b1');
    q.push('B', 'b2');
    q.push('C', 'c1');
    expect(q.size).toBe(8);
    expect(drain(q)).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3', 'a4', 'a5']);
    expect(q.size).toBe(0);
  });

  it('serves the tenant served longest ago first, even one that came after', () => {
    const q = new TurnQueue<string>();
    q.push('A', 'a1');
    q.push('A', 'a2');
    q.serve('A', 'a1');
    q.push('B', 'b1');
    expect(q.next(() => true)).toEqual(['B', 'b1']); // never served: before A, served once
    q.serve('B', 'b1');
    q.serve('A', 'a2');
    q.push('A', 'a3');
    q.push('B', 'b2'); // B was away a moment (its next request on its way): its turn came before A's last
    expect(drain(q)).toEqual(['b2', 'a3']);
  });

  it('skips those that may not be served now, keeping their place', () => {
    const q = new TurnQueue<string>();
    q.push('A', 'a1');
    q.push('B', 'b1');
    q.push('A', 'a2');
    const first = q.next((x) => x !== 'a1');
    expect(first).toEqual(['A', 'a2']); // A's turn: its first that may go
    q.serve(...first!);
    expect(drain(q)).toEqual(['b1', 'a1']);
  });

  it('takes out one that gave up without its tenant losing its turn', () => {
    const q = new TurnQueue<string>();
    q.push('A', 'a1');
    q.push('A', 'a2');
    q.push('B', 'b1');
    expect(q.remove('A', 'a1')).toBe(true);
    expect(q.remove('A', 'a1')).toBe(false);
    expect(q.remove('C', 'c1')).toBe(false);
    expect(q.size).toBe(2);
    expect(drain(q)).toEqual(['a2', 'b1']);
    q.serve('A', 'gone'); // serving one that is not there changes nothing
    expect(q.size).toBe(0);
  });

  it('lists everything in turn order', () => {
    const q = new TurnQueue<string>();
    q.push('A', 'a1');
    q.push('B', 'b1');
    q.push('A', 'a2');
    expect([...q.inTurn()]).toEqual([
      ['A', 'a1'],
      ['A', 'a2'],
      ['B', 'b1'],
    ]);
  });
});
