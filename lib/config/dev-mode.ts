// Development mode: whether it is on, and where it may be. It is on by
// default when pypages listens on loopback only: then the only people who can
// load a failing page are on this machine, which is where a learner works,
// and a page that teaches is worth more there than a page that hides. It is
// off by default on any other address, and (like --debug) refused there
// unless allow-remote-dev says the exposure is meant. A loopback server
// behind a reverse proxy on the same machine is the trap: every client then
// arrives from loopback, so trust-proxy turns the default off, and a request
// carrying a proxy's headers, or a Host that is not loopback, never gets the
// details (lib/http/dev-request.ts).

import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

interface DevSettings {
  readonly host: string;
  readonly dev: boolean | 'auto';
  readonly debug: boolean;
  readonly trustProxy: readonly string[];
  readonly allowRemoteDev: boolean;
}

/** True for an address only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '::ffff:127.0.0.1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/** Whether development mode is on for this config ("auto" decided from host and trust-proxy). */
export function devModeOn(config: DevSettings): boolean {
  if (config.dev !== 'auto') return config.dev;
  return isLoopbackHost(config.host) && config.trustProxy.length === 0;
}

/** The setting and the message refusing dev or debug mode on a non-loopback address without allow-remote-dev; null if fine. */
export function devBindProblem(config: DevSettings): { key: string; message: string } | null {
  if (isLoopbackHost(config.host) || config.allowRemoteDev) return null;
  const key = config.dev === true ? 'dev' : config.debug ? 'debug' : null;
  if (!key) return null;
  const message = `${key}: ${key} mode shows your code, file paths and variables to whoever loads a failing page, and host ${config.host} lets other machines in. Use --host 127.0.0.1, or add --allow-remote-dev if that is what you mean (a trusted classroom network)`;
  return { key, message };
}

/**
 * The URLs to open for a server listening on `host`: for a wildcard address
 * (0.0.0.0, ::) every address of this machine's interfaces, loopback first,
 * since no browser opens http://0.0.0.0/; else `host` itself.
 */
export function browsableUrls(host: string, port: number, scheme: string): string[] {
  const url = (h: string) => `${scheme}://${h.includes(':') ? `[${h}]` : h}:${port}/`;
  if (host !== '0.0.0.0' && host !== '::') return [url(host)];
  const addresses = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && (host === '::' || a.family === 'IPv4') && !a.address.startsWith('fe80'))
    .map((a) => a!.address);
  addresses.sort((a, b) => Number(isLoopbackHost(b)) - Number(isLoopbackHost(a)));
  return addresses.length ? addresses.map(url) : [url('127.0.0.1')];
}
