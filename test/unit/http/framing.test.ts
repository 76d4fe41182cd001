// RFC 9112 rules Node's parser lets through, checked before anything else.
import { describe, expect, it } from 'vitest';
import { framingProblem } from '../../../lib/http/framing.js';

const HOSTS = 'more than one Host header';
const BAD_HOST = 'a Host header that is not a host name or address';
const TE10 = 'Transfer-Encoding in an HTTP/1.0 request';

describe('framingProblem', () => {
  it.each([
    ['1.1', ['Host', 'a'], null],
    ['1.1', ['Host', 'a', 'Transfer-Encoding', 'chunked'], null],
    ['1.0', ['Host', 'a', 'Content-Length', '5'], null],
    ['1.0', [], null],
    ['1.1', ['Host', 'a', 'Host', 'a'], HOSTS],
    ['1.1', ['host', 'a', 'HOST', 'b'], HOSTS],
    ['1.0', ['Host', 'a', 'Host', 'b'], HOSTS],
    ['1.1', ['X-Host', 'a', 'Hosts', 'b', 'Host', 'c'], null],
    ['1.0', ['Transfer-Encoding', 'chunked'], TE10],
    ['1.0', ['transfer-encoding', 'gzip', 'Content-Length', '3'], TE10],
    ['1.0', ['X-Transfer-Encoding', 'chunked'], null],
  ] as const)('HTTP/%s %j → %s', (version, headers, expected) => {
    expect(framingProblem(version, headers, 100)?.reason ?? null).toBe(expected);
  });

  it.each([
    '',
    'example.com',
    'example.com:8080',
    'EXAMPLE.com:',
    '127.0.0.1',
    '127.0.0.1:80',
    '[::1]',
    '[::1]:8000',
    '[fe80::1%25eth0]'.replace('%25eth0', ''),
    '[v1.fe80::a+en1]',
    'caf%C3%A9.example',
    "a-b_c~d!$&'()*+,;=e",
    'xn--bcher-kva.example',
  ])('accepts the Host %j', (host) => {
    expect(framingProblem('1.1', ['Host', host], 100)).toBeNull();
  });

  it.each([
    'a b',
    'a.example, b.example',
    'a/b',
    'a?b',
    'a#b',
    'a@b',
    'user:pass@host',
    'host:port',
    'host:80:80',
    '[::1',
    '::1',
    'a%zz',
    'a\tb',
    'a"b',
    '<a>',
    'a\\b',
    'a|b',
    'a^b',
    'a{b}',
  ])('refuses the Host %j', (host) => {
    expect(framingProblem('1.1', ['Host', host], 100)).toEqual({ status: 400, reason: BAD_HOST });
  });

  it.each(['2.0', '0.9', '3.0'])('answers HTTP/%s with 505', (version) => {
    expect(framingProblem(version, ['Host', 'a'], 100)?.status).toBe(505);
  });

  it('reads a higher minor version as HTTP/1.1', () => {
    expect(framingProblem('1.2', ['Host', 'a'], 100)).toBeNull();
  });

  /** `n` header fields: Host, then fillers. */
  const fields = (n: number) => ['Host', 'a', ...Array.from({ length: n - 1 }, (_, i) => [`X-${i}`, 'v']).flat()];

  it('takes up to max-header-fields fields, and answers 431 to one more', () => {
    expect(framingProblem('1.1', fields(100), 100)).toBeNull();
    expect(framingProblem('1.1', fields(101), 100)).toEqual({
      status: 431,
      reason: 'more than 100 header fields (max-header-fields)',
    });
    expect(framingProblem('1.1', fields(3), 2)?.status).toBe(431);
  });
});
