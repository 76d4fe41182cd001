// Request → PEP 3333 CGI variables. Pure: it sees plain data, not sockets.
// Every value is a str whose code points are the request's bytes (latin-1),
// which is what Node's HTTP parser gives for header values and what PEP 3333
// asks for. The worker adds the wsgi.* keys.

import { SERVER_SOFTWARE } from '../util/version.js';

export interface RequestFacts {
  method: string;
  rawUrl: string; // as received: path?query
  httpVersion: string; // "1.1"
  rawHeaders: readonly string[]; // Node's flat [name, value, ...] list
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
  secure: boolean;
  /** The Host the client asked for, as a trusted proxy reports it (lib/http/proxy.ts); replaces the Host header. */
  forwardedHost?: string | null;
}

export interface ScriptFacts {
  file: string;
  scriptName: string;
  pathInfo: string;
  /** The site's document root (DOCUMENT_ROOT). */
  root: string;
  /** The site's SERVER_NAME; absent or null: the Host the client asked for (without its port), else the server's address. */
  serverName?: string | null;
}

export type Environ = Record<string, string>;

/** Builds the CGI part of the WSGI environ for one script request. */
export function buildEnviron(req: RequestFacts, script: ScriptFacts): Environ {
  const queryAt = req.rawUrl.indexOf('?');
  const env: Environ = {
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_SOFTWARE,
    REQUEST_METHOD: req.method,
    REQUEST_URI: req.rawUrl,
    SCRIPT_NAME: script.scriptName,
    PATH_INFO: script.pathInfo,
    QUERY_STRING: queryAt === -1 ? '' : req.rawUrl.slice(queryAt + 1),
    SERVER_PROTOCOL: req.httpVersion === '2.0' ? 'HTTP/2' : `HTTP/${req.httpVersion}`,
    SERVER_PORT: String(req.localPort),
    SERVER_ADDR: plainAddress(req.localAddress),
    REMOTE_ADDR: plainAddress(req.remoteAddress),
    REMOTE_PORT: String(req.remotePort),
    SCRIPT_FILENAME: script.file,
    DOCUMENT_ROOT: script.root,
    'wsgi.url_scheme': req.secure ? 'https' : 'http',
  };
  if (req.secure) env.HTTPS = 'on';
  addHeaders(env, req.rawHeaders);
  if (req.forwardedHost) env.HTTP_HOST = req.forwardedHost;
  env.SERVER_NAME = script.serverName ?? serverName(env.HTTP_HOST, env.SERVER_ADDR);
  return env;
}

/**
 * Copies request headers as HTTP_* (CONTENT_TYPE/CONTENT_LENGTH without the
 * prefix). Names containing "_" are dropped, as Apache 2.4 does, so that
 * "X_Forwarded_For" cannot pose as "X-Forwarded-For". Repeated headers are
 * joined with ", " (cookies with "; ").
 */
function addHeaders(env: Environ, rawHeaders: readonly string[]): void {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    // HTTP/2's pseudo-headers (:method, :path...) are not headers; its Host is :authority.
    if (name.charCodeAt(0) === 58 /* : */) {
      if (name === ':authority') env.HTTP_HOST ??= rawHeaders[i + 1];
      continue;
    }
    if (name.includes('_')) continue;
    const key = cgiName(name);
    const value = rawHeaders[i + 1];
    const previous = env[key];
    if (previous === undefined || !(key.startsWith('HTTP_') || key.startsWith('CONTENT_'))) env[key] = value;
    else env[key] = previous + (key === 'HTTP_COOKIE' ? '; ' : ', ') + value;
  }
}

function cgiName(header: string): string {
  let key = cgiNames.get(header);
  if (key === undefined) {
    const upper = header.toUpperCase().replace(/-/g, '_');
    key = upper === 'CONTENT_TYPE' || upper === 'CONTENT_LENGTH' ? upper : `HTTP_${upper}`;
    // Clients send the same few names, spelt the same way; the cap keeps made-up ones from filling memory.
    if (cgiNames.size >= 1000) cgiNames.clear();
    cgiNames.set(header, key);
  }
  return key;
}

/** Header name as received → its CGI key: every request converts the same few names. */
const cgiNames = new Map<string, string>();

/** Host header without its port; the server's own address when absent. */
function serverName(host: string | undefined, serverAddr: string): string {
  if (!host) return serverAddr;
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1) || host;
  const colon = host.lastIndexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

/** "::ffff:127.0.0.1" → "127.0.0.1": what CGI programs expect for IPv4 peers. */
function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
