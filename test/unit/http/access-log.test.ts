// The access-log line (Apache's combined format) and its timestamp.
import { describe, expect, it } from 'vitest';
import { clfTime, combinedLine, type AccessFacts } from '../../../lib/http/access-log.js';

const facts = (over: Partial<AccessFacts> = {}): AccessFacts => ({
  remote: '127.0.0.1',
  time: new Date(Date.UTC(2000, 9, 10, 13, 55, 36)),
  requestLine: 'GET /hello.py HTTP/1.1',
  status: 200,
  bytes: 12,
  referer: undefined,
  userAgent: 'curl/8.0',
  ...over,
});

describe('combinedLine', () => {
  it('writes the combined format', () => {
    expect(combinedLine(facts())).toBe(
      '127.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET /hello.py HTTP/1.1" 200 12 "-" "curl/8.0"',
    );
  });

  it('logs no bytes as "-"', () => {
    expect(combinedLine(facts({ bytes: null }))).toContain(' 200 - ');
    expect(combinedLine(facts({ bytes: 0 }))).toContain(' 200 - ');
  });

  it.each([
    ['a "quoted" agent', '"a \\"quoted\\" agent"'],
    ['back\\slash', '"back\\\\slash"'],
    ['tab\there', '"tab\\there"'],
    ['nul\x00and\x1b', '"nul\\x00and\\x1b"'],
    ['del\x7f', '"del\\x7f"'],
    ['csi\x9b2J', '"csi\\x9b2J"'],
    ['caf\xe9', '"caf\xe9"'],
    ['', '""'],
  ])('escapes %j so a line cannot be forged', (agent, logged) => {
    expect(combinedLine(facts({ userAgent: agent })).endsWith(` ${logged}`)).toBe(true);
  });
});

describe('clfTime', () => {
  it('formats in UTC with two-digit fields', () => {
    expect(clfTime(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)))).toBe('[02/Jan/2026:03:04:05 +0000]');
  });

  it('changes with the second, not within it', () => {
    const t = Date.UTC(2026, 10, 21, 21, 0, 0);
    expect(clfTime(new Date(t + 999))).toBe('[21/Nov/2026:21:00:00 +0000]');
    expect(clfTime(new Date(t + 1000))).toBe('[21/Nov/2026:21:00:01 +0000]');
    expect(clfTime(new Date(t - 1))).toBe('[21/Nov/2026:20:59:59 +0000]');
  });
});
