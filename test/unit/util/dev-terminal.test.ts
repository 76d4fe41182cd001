// The development terminal's request line: clock time, status coloured on a TTY only, time taken, escaped URL.
import { describe, expect, it } from 'vitest';
import { clockTime, colourFor, devAccessLine } from '../../../lib/util/dev-terminal.js';

const facts = {
  time: new Date(2026, 0, 2, 3, 4, 5),
  status: 200,
  method: 'GET',
  url: '/a.py',
  ms: 12.4,
  requestId: 'x-1',
};

describe('devAccessLine', () => {
  it('is one short line; 5xx carry their request id', () => {
    expect(devAccessLine(facts, false)).toBe('03:04:05 200 GET /a.py 12 ms');
    expect(devAccessLine({ ...facts, status: 502 }, false)).toBe('03:04:05 502 GET /a.py 12 ms (request x-1)');
  });

  it('colours the status only when asked', () => {
    expect(devAccessLine({ ...facts, status: 404 }, true)).toContain('\x1b[33m404\x1b[0m');
    expect(devAccessLine({ ...facts, status: 500 }, true)).toContain('\x1b[31m500\x1b[0m');
  });

  it('escapes control characters, so a URL cannot forge a line', () => {
    expect(devAccessLine({ ...facts, url: '/a\n03:00:00 200 GET /fake' }, false)).toContain('/a\\x0a03:00:00');
  });

  it('uses colour on a TTY without NO_COLOR only', () => {
    expect(colourFor({ isTTY: true }, {})).toBe(true);
    expect(colourFor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colourFor({ isTTY: false }, {})).toBe(false);
    expect(clockTime(facts.time)).toBe('03:04:05');
  });
});
