// Host patterns and the order a request's Host is matched in.
import { describe, expect, it } from 'vitest';
import { hostMatcher, hostPattern, splitHost } from '../../../lib/site/hosts.js';

describe('hostPattern', () => {
  it.each([
    ['Shop.Example.COM', 'shop.example.com'],
    ['*.example.com', '*.example.com'],
    ['example.com:08080', 'example.com:8080'],
    ['localhost', 'localhost'],
    ['127.0.0.1:8000', '127.0.0.1:8000'],
    ['[::1]:80', '[::1]:80'],
    [' a-b.test ', 'a-b.test'],
  ])('accepts %j as %j', (raw, normal) => expect(hostPattern(raw)).toBe(normal));

  it.each([
    ['a b.test'],
    ['*'],
    ['a.*.test'],
    ['-a.test'],
    ['a.test:port'],
    [''],
    [5],
    ['a.test:123456'],
    ['*example.com'],
  ])('refuses %j', (raw) => expect(hostPattern(raw)).toBeNull());
});

describe('splitHost', () => {
  it('splits the port, lower-cases, drops a trailing dot, keeps IPv6 brackets', () => {
    expect(splitHost('A.Test.:81')).toEqual({ name: 'a.test', port: '81' });
    expect(splitHost('a.test')).toEqual({ name: 'a.test', port: null });
    expect(splitHost('[::1]:8080')).toEqual({ name: '[::1]', port: '8080' });
    expect(splitHost('[::1]')).toEqual({ name: '[::1]', port: null });
  });
});

describe('hostMatcher', () => {
  const match = hostMatcher([
    { hosts: ['*.example.com'], value: 'wild' },
    { hosts: ['www.example.com'], value: 'www' },
    { hosts: ['www.example.com:8080'], value: 'www-8080' },
    { hosts: ['*.shop.example.com'], value: 'shop-wild' },
    { hosts: ['*.example.com:9000'], value: 'wild-9000' },
    { hosts: ['twice.test'], value: 'first' },
    { hosts: ['twice.test'], value: 'second' },
    { hosts: ['tls.test:443'], value: 'tls' },
  ]);

  it.each([
    ['www.example.com', 'www'],
    ['WWW.Example.Com.', 'www'],
    ['www.example.com:8080', 'www-8080'],
    ['www.example.com:81', 'www'],
    ['blog.example.com', 'wild'],
    ['a.b.example.com', 'wild'],
    ['x.shop.example.com', 'shop-wild'],
    ['blog.example.com:9000', 'wild-9000'],
    ['twice.test', 'first'],
    ['tls.test', 'tls'],
    ['tls.test:443', 'tls'],
  ])('%j → %j: exact before wildcard, port before none, longest suffix first, first listed on a tie', (host, site) =>
    expect(match(host)).toBe(site),
  );

  it.each([['example.com'], ['other.test'], ['tls.test:8443'], ['xexample.com']])('%j → no site', (host) =>
    expect(match(host)).toBeUndefined(),
  );
});
