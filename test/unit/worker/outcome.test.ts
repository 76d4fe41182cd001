// The error kinds: the worker's are exactly lib/worker/protocol.md's table
// (test/python/test_errors.py holds the Python side to the same table).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  failed,
  isWorkerErrorKind,
  NODE_ERROR_STATUS,
  statusOf,
  WORKER_ERROR_STATUS,
  type ErrorKind,
} from '../../../lib/worker/outcome.js';

/** {kind: status} from the table under "## ERROR kinds" in lib/worker/protocol.md. */
function specKinds(): Record<string, number> {
  const text = readFileSync(new URL('../../../lib/worker/protocol.md', import.meta.url), 'utf8');
  const section = text.split('\n## ERROR kinds\n')[1].split('\n## ')[0];
  const rows = [...section.matchAll(/^\| `([a-z-]+)` +\| (\d{3}) +\|/gm)];
  return Object.fromEntries(rows.map(([, kind, status]) => [kind, Number(status)]));
}

describe('error kinds', () => {
  it("the worker's are exactly lib/worker/protocol.md's, with the same statuses", () => {
    expect(Object.keys(specKinds()).length).toBeGreaterThanOrEqual(5);
    expect({ ...WORKER_ERROR_STATUS }).toEqual(specKinds());
  });

  it("Node's own kinds are not the worker's", () => {
    for (const kind of Object.keys(NODE_ERROR_STATUS)) expect(isWorkerErrorKind(kind), kind).toBe(false);
  });

  it('tells a kind the worker may send from anything else', () => {
    expect(isWorkerErrorKind('not-callable')).toBe(true);
    for (const other of ['busy', 'NOT-PAGE', '', 'toString', '__proto__', 1, null, undefined])
      expect(isWorkerErrorKind(other), String(other)).toBe(false);
  });

  it('gives every kind its status', () => {
    const all = { ...WORKER_ERROR_STATUS, ...NODE_ERROR_STATUS } as Record<ErrorKind, number>;
    for (const [kind, status] of Object.entries(all)) {
      expect(statusOf(kind as ErrorKind)).toBe(status);
      expect(failed(kind as ErrorKind, 'why')).toEqual({
        kind: 'error',
        status,
        errorKind: kind,
        message: 'why',
        traceback: '',
      });
    }
    expect(NODE_ERROR_STATUS).toMatchObject({
      busy: 503,
      crash: 502,
      timeout: 504,
      'client-gone': 499,
      'client-timeout': 408,
      start: 500,
    });
  });
});
