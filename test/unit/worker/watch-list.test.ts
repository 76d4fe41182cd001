import { describe, expect, it } from 'vitest';
import { MAX_WATCHED_FILES, WATCH_BYTES, WatchBudget } from '../../../lib/worker/watch-list.js';
import { ProtocolError } from '../../../lib/worker/protocol.js';

const payload = (files: unknown) => Buffer.from(JSON.stringify({ files }));

describe('WatchBudget', () => {
  it('reads a well-formed list', () => {
    expect(new WatchBudget().check(payload([['/r/a.py', '1700000000000000001', 12]]))).toEqual([
      { path: '/r/a.py', mtimeNs: '1700000000000000001', size: 12 },
    ]);
  });

  it('refuses malformed entries', () => {
    for (const files of [5, [['/a', 'x', 1]], [['/a', '1']], [[1, '1', 1]], [['/'.repeat(5000), '1', 1]]])
      expect(() => new WatchBudget().check(payload(files))).toThrow(ProtocolError);
  });

  it('refuses a list longer than MAX_WATCHED_FILES', () => {
    const files = Array.from({ length: MAX_WATCHED_FILES + 1 }, (_, i) => [`/r/${i}.py`, '1', 1]);
    expect(() => new WatchBudget().check(payload(files))).toThrow(/more than 20000/);
  });

  it("refuses lists past WATCH_BYTES over a worker's life", () => {
    const budget = new WatchBudget();
    const big = payload(Array.from({ length: MAX_WATCHED_FILES }, (_, i) => [`/r/${'x'.repeat(100)}${i}.py`, '1', 1]));
    const fits = Math.floor(WATCH_BYTES / big.length);
    for (let i = 0; i < fits; i++) budget.check(big);
    expect(() => budget.check(big)).toThrow(/more than/);
  });
});
