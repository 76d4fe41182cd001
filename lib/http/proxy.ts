// Who is the client, really? Behind a reverse proxy the TCP peer is the proxy;
// the client's address, the scheme it used and the Host it asked for arrive in
// RFC 7239 `Forwarded` or the de-facto X-Forwarded-For/-Proto/-Host headers.
// Anyone can send those headers, so they count only when the peer is in the
// `trust-proxy` list, and a chain of X-Forwarded-For hops is believed only as
// far back as the hops are trusted proxies (the rightmost untrusted hop is the
// client), as Apache's mod_remoteip does. Pure: no sockets, no config.

import { isIP } from 'node:net';

/** One address or CIDR block, as 4 (IPv4) or 16 (IPv6) bytes and a prefix length in bits. */
interface Block {
  bytes: number[];
  bits: number;
}

/** Answers "is this peer address a trusted proxy?"; built once from the trust-proxy setting. */
export type TrustList = (address: string) => boolean;

/** trustList(entries), built once per (frozen) config list: the per-request form. */
export function trustListOf(entries: readonly string[]): TrustList {
  let list = compiled.get(entries);
  if (!list) compiled.set(entries, (list = trustList(entries)));
  return list;
}

const compiled = new WeakMap<readonly string[], TrustList>();

/**
 * Compiles the trust-proxy entries (addresses such as 10.0.0.1 or ::1, CIDR
 * blocks such as 10.0.0.0/8 or fd00::/8). IPv4-mapped IPv6 addresses and
 * blocks (::ffff:10.0.0.0/104) are treated as the IPv4 ones they stand for,
 * both in the list and in the addresses checked. Throws on an invalid entry.
 */
export function trustList(entries: readonly string[]): TrustList {
  const blocks = entries.map((entry) => {
    const block = parseBlock(entry);
    if (!block) throw new Error(`not an IP address or CIDR block: ${JSON.stringify(entry)}`);
    return block;
  });
  if (blocks.length === 0) return () => false;
  return (address) => {
    const bytes = parseAddress(address);
    return bytes !== null && blocks.some((b) => inBlock(bytes, b));
  };
}

/** Bytes of an IP address (zone id dropped, IPv4-mapped IPv6 as IPv4), or null if it is not one. */
export function parseAddress(text: string): number[] | null {
  const bytes = rawBytes(text);
  return bytes && isMapped(bytes) ? bytes.slice(12) : bytes;
}

/** 4 or 16 bytes as written: an IPv4-mapped address stays 16 bytes. */
function rawBytes(text: string): number[] | null {
  const address = text.replace(/%[^%]*$/, '');
  const family = isIP(address);
  if (family === 4) return address.split('.').map(Number);
  return family === 6 ? ipv6Bytes(address) : null;
}

function parseBlock(entry: string): Block | null {
  const [address, prefix, extra] = entry.trim().split('/');
  const raw = extra === undefined ? rawBytes(address) : null;
  if (!raw) return null;
  const max = raw.length * 8;
  const bits = prefix === undefined ? max : /^\d+$/.test(prefix) ? Number(prefix) : NaN;
  if (!(bits >= 0 && bits <= max)) return null;
  // ::ffff:a.b.c.d/n with n >= 96 is the IPv4 block a.b.c.d/(n - 96).
  if (isMapped(raw) && bits >= 96) return { bytes: raw.slice(12), bits: bits - 96 };
  return { bytes: raw, bits };
}

function inBlock(bytes: number[], block: Block): boolean {
  if (bytes.length !== block.bytes.length) return false;
  for (let bit = 0; bit < block.bits; bit += 8) {
    const mask = block.bits - bit >= 8 ? 0xff : (0xff << (8 - (block.bits - bit))) & 0xff;
    if ((bytes[bit / 8] & mask) !== (block.bytes[bit / 8] & mask)) return false;
  }
  return true;
}

/** 16 bytes of a valid IPv6 address (checked by isIP), embedded dotted quads included. */
function ipv6Bytes(address: string): number[] {
  const words = (part: string) =>
    (part ? part.split(':') : []).flatMap((w) => {
      if (!w.includes('.')) return [parseInt(w, 16)];
      const [a, b, c, d] = w.split('.').map(Number);
      return [(a << 8) | b, (c << 8) | d];
    });
  const [head, tail] = address.split('::');
  const left = words(head);
  const right = tail === undefined ? [] : words(tail);
  const all = [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
  return all.flatMap((w) => [w >> 8, w & 0xff]);
}

function isMapped(bytes: number[]): boolean {
  return bytes.length === 16 && bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
}

/** One RFC 7239 forwarded-element: its parameters, names lowercased, values unquoted. */
export type ForwardedElement = Record<string, string>;

/**
 * Parses an RFC 7239 Forwarded header value (elements separated by commas,
 * pairs by semicolons, values tokens or quoted strings with \-escapes).
 * Returns null when the value is malformed: then none of it can be believed.
 */
export function parseForwarded(value: string): ForwardedElement[] | null {
  const elements: ForwardedElement[] = [{}];
  let at = 0;
  while (at < value.length) {
    const c = value[at];
    if (c === ' ' || c === '\t' || c === ';') at++;
    else if (c === ',') {
      elements.push({});
      at++;
    } else {
      const pair = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+)=/.exec(value.slice(at));
      if (!pair) return null;
      const parsed = readValue(value, at + pair[0].length);
      if (!parsed) return null;
      const element = elements[elements.length - 1];
      const name = pair[1].toLowerCase();
      if (name in element) return null; // RFC 7239 §4: each parameter at most once per element
      element[name] = parsed.value;
      at = parsed.end;
    }
  }
  return elements.filter((e) => Object.keys(e).length > 0); // "a, , b": empty list items carry nothing
}

/** A token or a quoted string starting at `at`; `end` is just past it. */
function readValue(text: string, at: number): { value: string; end: number } | null {
  if (text[at] !== '"') {
    const token = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/.exec(text.slice(at));
    return token ? { value: token[0], end: at + token[0].length } : null;
  }
  let value = '';
  for (let i = at + 1; i < text.length; i++) {
    if (text[i] === '"') return { value, end: i + 1 };
    if (text[i] === '\\') i++;
    if (i < text.length) value += text[i];
  }
  return null; // unterminated quoted string
}

/** A forwarded node ("192.0.2.1:80", "[2001:db8::1]:4711", "unknown", "_hidden"): its address and port if it names one. */
export function parseNode(node: string): { address: string; port: number | null } | null {
  const text = node.trim();
  if (isIP(text)) return { address: text, port: null }; // X-Forwarded-For may hold a bare IPv6 address
  const match = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d{1,5}|_[A-Za-z0-9._-]+))?$/.exec(text);
  const address = match?.[1] ?? match?.[2];
  if (!address || isIP(address) !== (match![1] ? 6 : 4)) return null; // unknown, obfuscated, malformed
  const port = match![3] === undefined || match![3].startsWith('_') ? null : Number(match![3]);
  return { address, port: port !== null && port <= 65535 ? port : null };
}

/** What the server knows about a request before believing any proxy. */
export interface PeerFacts {
  peer: string;
  peerPort: number;
  secure: boolean;
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** The request as the client made it: what REMOTE_ADDR, wsgi.url_scheme, HTTP_HOST and SERVER_PORT should say. */
export interface ClientView {
  remoteAddr: string;
  remotePort: number;
  secure: boolean;
  /** The Host the client asked for, when a trusted proxy says so (replaces the Host header); else null. */
  host: string | null;
  /** The port the client connected to, when a trusted proxy told the host or scheme; else null (the local port). */
  serverPort: number | null;
}

interface Hop {
  for?: string;
  proto?: string;
  host?: string;
}

/**
 * Applies Forwarded (preferred when present) or X-Forwarded-* from a trusted
 * peer; from any other peer they change nothing. Walks the hops right to left
 * while each one's sender is a trusted proxy: the first untrusted address is
 * the client. A hop whose `for` is unknown, obfuscated or malformed ends the
 * walk at the proxy that wrote it. Scheme and host come from the last hop
 * believed, since a trusted proxy wrote it.
 */
export function clientView(trust: TrustList, facts: PeerFacts): ClientView {
  const view: ClientView = {
    remoteAddr: facts.peer,
    remotePort: facts.peerPort,
    secure: facts.secure,
    host: null,
    serverPort: null,
  };
  if (!trust(facts.peer)) return view;
  const hops = forwardedHops(facts.headers);
  let chosen: Hop | null = null;
  for (let i = hops.length - 1; i >= 0; i--) {
    chosen = hops[i];
    const node = chosen.for === undefined ? null : parseNode(chosen.for);
    if (!node) break;
    view.remoteAddr = node.address;
    if (node.port !== null) view.remotePort = node.port;
    if (!trust(node.address)) break;
  }
  return chosen ? applyHop(view, chosen) : view;
}

function applyHop(view: ClientView, hop: Hop): ClientView {
  const proto = hop.proto?.trim().toLowerCase();
  if (proto === 'http' || proto === 'https') view.secure = proto === 'https';
  const host = hop.host?.trim();
  if (host && /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~%!$&'()*+,;=-]+)(?::\d{1,5})?$/.test(host)) view.host = host;
  if (view.host !== null || proto === 'http' || proto === 'https') {
    const port = view.host === null ? null : /:(\d+)$/.exec(view.host);
    view.serverPort = port ? Number(port[1]) : view.secure ? 443 : 80;
  }
  return view;
}

/** The hops, leftmost (nearest the client) first: from Forwarded if present, else X-Forwarded-*. */
function forwardedHops(headers: PeerFacts['headers']): Hop[] {
  const forwarded = header(headers, 'forwarded');
  if (forwarded !== undefined)
    return (parseForwarded(forwarded) ?? []).map((e) => ({ for: e.for, proto: e.proto, host: e.host }));
  const fors = list(header(headers, 'x-forwarded-for'));
  const protos = list(header(headers, 'x-forwarded-proto'));
  const hosts = list(header(headers, 'x-forwarded-host'));
  // Proxies that append give one value per hop; those that overwrite leave one
  // value, written by the proxy nearest to us, which then stands for every hop.
  const pick = (values: string[], i: number) => (values.length === fors.length ? values[i] : values[values.length - 1]);
  const count = Math.max(fors.length, protos.length || hosts.length ? 1 : 0);
  return Array.from({ length: count }, (_, i) => ({ for: fors[i], proto: pick(protos, i), host: pick(hosts, i) }));
}

function header(headers: PeerFacts['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function list(value: string | undefined): string[] {
  return value === undefined
    ? []
    : value
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean);
}
