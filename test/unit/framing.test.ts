// RFC 9112 rules Node's parser lets through, checked before anything else.
import { describe, expect, it } from 'vitest';
import { framingProblem } from '../../lib/framing.js';

describe('framingProblem', () => {
  it.each([
    ['1.1', ['Host', 'a'], null],
    ['1.1', ['Host', 'a', 'Transfer-Encoding', 'chunked'], null],
    ['1.0', ['Host', 'a', 'Content-Length', '5'], null],
    ['1.0', [], null],
    ['1.1', ['Host', 'a', 'Host', 'a'], 'more than one Host header'],
    ['1.1', ['host', 'a', 'HOST', 'b'], 'more than one Host header'],
    ['1.0', ['Host', 'a', 'Host', 'b'], 'more than one Host header'],
    ['1.1', ['X-Host', 'a', 'Hosts', 'b', 'Host', 'c'], null],
    ['1.0', ['Transfer-Encoding', 'chunked'], 'Transfer-Encoding in an HTTP/1.0 request'],
    ['1.0', ['transfer-encoding', 'gzip', 'Content-Length', '3'], 'Transfer-Encoding in an HTTP/1.0 request'],
    ['1.0', ['X-Transfer-Encoding', 'chunked'], null],
  ] as const)('HTTP/%s %j → %s', (version, headers, expected) => {
    expect(framingProblem(version, headers)).toBe(expected);
  });
});
