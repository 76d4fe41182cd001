// HTTPS: HTTP/2 with HTTP/1.1 still offered by ALPN (node:http2's secure
// server with allowHTTP1, whose compatibility API gives the request listener
// the req/res it expects), from cert/key files or from tls: auto's
// certificates by SNI; and the plain-HTTP port beside it, which answers
// ACME's challenges, then redirects to HTTPS (redirect-http) or serves.

import { readFileSync } from 'node:fs';
import { Server as HttpServer, type RequestListener, type Server, type ServerOptions } from 'node:http';
import { createSecureServer, type Http2Session, type SecureServerOptions } from 'node:http2';
import type { Socket } from 'node:net';
import type { Config } from '../lib/config/config.js';
import { answerChallenge } from '../lib/tls/challenges.js';
import type { AutoCertificates } from '../lib/tls/certificates.js';

/** HTTP/2 streams a client may have open at once on one connection (nghttp2's default is unbounded). */
const MAX_CONCURRENT_STREAMS = 128;

/** Whether and how pypages serves HTTPS: tls: auto, cert/key files, or not at all. */
export function tlsMode(config: Config): 'auto' | 'files' | 'off' {
  return config.tls === 'auto' ? 'auto' : config.cert ? 'files' : 'off';
}

/**
 * The HTTPS server, HTTP/2 and HTTP/1.1. The HTTP/1.1 side is node:http's
 * own connection handling, so `http1` (head size, timeouts) is set on it as
 * on an http.Server; HTTP/2 gets the same head size as its header list limit.
 */
export function secureServer(
  config: Config,
  http1: ServerOptions,
  handler: RequestListener,
  certificates: AutoCertificates | null,
): Server {
  const source: SecureServerOptions = certificates
    ? { SNICallback: (name, done) => done(null, certificates.contextFor(name)) }
    : { cert: readFileSync(config.cert), key: readFileSync(config.key) };
  const server = createSecureServer(
    {
      ...source,
      allowHTTP1: true,
      // client-timeout bounds the TLS handshake too (Node's default is 120 s, whatever the client sends).
      handshakeTimeout: config.clientTimeout * 1000,
      settings: { maxHeaderListSize: config.maxHeaderSize, maxConcurrentStreams: MAX_CONCURRENT_STREAMS },
    },
    handler as never,
  );
  Object.assign(server, http1);
  withSessions(server);
  return server as unknown as Server;
}

/**
 * Gives the HTTP/2 server what the lifecycle calls on an http.Server:
 * closeIdleConnections() also sends HTTP/2 connections a GOAWAY (their
 * streams finish), closeAllConnections() also ends them, and every socket
 * still open, so that server.close() is sure to complete.
 */
function withSessions(server: ReturnType<typeof createSecureServer>): void {
  const sessions = new Set<Http2Session>();
  const sockets = new Set<Socket>();
  server.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const http1 = server as unknown as Server;
  const closeIdle = http1.closeIdleConnections.bind(server);
  const closeAll = HttpServer.prototype.closeAllConnections.bind(http1);
  http1.closeIdleConnections = () => {
    closeIdle();
    for (const session of sessions) session.close();
  };
  http1.closeAllConnections = () => {
    closeAll();
    for (const session of sessions) session.destroy();
    for (const socket of sockets) socket.destroy();
  };
}

/**
 * The plain-HTTP port's listener: ACME challenges first, then a 308 to the
 * same URL over HTTPS (on `httpsPort()`, the port bound) when redirect-http
 * is on, else the sites as over HTTPS.
 */
export function plainListener(
  config: Config,
  httpsPort: () => number,
  handler: RequestListener,
  certificates: AutoCertificates | null,
): RequestListener {
  return (req, res) => {
    if (certificates && answerChallenge(certificates.challenges, req, res)) return;
    if (!config.redirectHttp) return handler(req, res);
    const host = /^([a-z0-9.-]+|\[[0-9a-f:.]+\])(:\d+)?$/i.exec(req.headers.host ?? '');
    const port = httpsPort() === 443 ? '' : `:${httpsPort()}`;
    const body = host ? '' : '400 Bad Request\n\nA redirect to HTTPS needs a valid Host header.\n';
    const headers = host ? { Location: `https://${host[1]}${port}${req.url ?? '/'}` } : {};
    res.writeHead(host ? 308 : 400, { ...headers, 'Content-Length': body.length, 'Content-Type': 'text/plain' });
    res.end(body);
  };
}
