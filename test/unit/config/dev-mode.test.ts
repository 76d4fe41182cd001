// Development mode: on by default on loopback only, refused on a public address unless allowed, usable URLs.
import { describe, expect, it } from 'vitest';
import { makeConfig } from '../../../lib/config/config.js';
import { browsableUrls, devBindProblem, devModeOn, isLoopbackHost } from '../../../lib/config/dev-mode.js';

const base = { host: '127.0.0.1', dev: 'auto' as const, debug: false, trustProxy: [], allowRemoteDev: false };

describe('dev mode', () => {
  it('tells loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.5', 'example.org', '128.0.0.1'])
      expect(isLoopbackHost(h), h).toBe(false);
  });

  it('is on by default on loopback, off elsewhere and behind a trusted proxy, and as configured otherwise', () => {
    expect(devModeOn(base)).toBe(true);
    expect(devModeOn({ ...base, host: '0.0.0.0' })).toBe(false);
    expect(devModeOn({ ...base, trustProxy: ['127.0.0.1'] })).toBe(false);
    expect(devModeOn({ ...base, dev: false })).toBe(false);
    expect(devModeOn({ ...base, host: '0.0.0.0', dev: true })).toBe(true);
  });

  it('refuses dev or debug on a public address unless allow-remote-dev', () => {
    expect(devBindProblem({ ...base, host: '0.0.0.0', dev: true })?.key).toBe('dev');
    expect(devBindProblem({ ...base, host: '::', debug: true })?.message).toContain('--allow-remote-dev');
    expect(devBindProblem({ ...base, host: '0.0.0.0', dev: true, allowRemoteDev: true })).toBeNull();
    expect(devBindProblem({ ...base, host: '0.0.0.0' })).toBeNull(); // auto: simply off there
    expect(() => makeConfig({ root: '.', host: '0.0.0.0', dev: true })).toThrow(/dev mode shows your code/);
    expect(makeConfig({ root: '.', host: '0.0.0.0', debug: true, allowRemoteDev: true }).debug).toBe(true);
  });

  it('lists the machine addresses, loopback first, for a wildcard bind and never 0.0.0.0', () => {
    const urls = browsableUrls('0.0.0.0', 8000, 'http');
    expect(urls[0]).toBe('http://127.0.0.1:8000/');
    expect(urls.join(' ')).not.toContain('0.0.0.0');
    expect(browsableUrls('::1', 8443, 'https')).toEqual(['https://[::1]:8443/']);
  });
});
