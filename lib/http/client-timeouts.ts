// How long pypages waits on a silent client (setting client-timeout, as
// Apache's Timeout). Node's socket idle timer measures the time between bytes
// in either direction, so a slow but moving upload or download is never cut;
// when it fires, this file decides who was being waited on:
//   - a page still working (or a request waiting in its group's line) is the
//     server's time, bounded by request-timeout and queue-timeout: the timer is
//     armed again;
//   - a page waiting on its client (body bytes that do not come, or room to
//     write its answer) ends that request: 408 if nothing was answered yet,
//     else the connection is closed; the page's read fails, freeing its thread;
//   - no request in progress: half a request head gets 408, an idle
//     connection is closed.
// headersTimeout stays as a backstop for heads dribbled a byte at a time
// (slowloris): Node answers 408 when a head is not complete within it.
// Over HTTP/2 each stream has its own timer, judged the same way (a stream
// that is not a page's, or whose page waits on it, is cancelled); a
// connection silent for as long with no stream open is closed (GOAWAY).

import type { Server, ServerResponse } from 'node:http';
import { constants, type Http2Session, type Http2Stream } from 'node:http2';
import { Socket } from 'node:net';
import type { ClientWatch } from '../worker/exchange.js';
import { headBegun, openResponses } from './connections.js';
import { streamOf } from './h2.js';

/** Keyed by the HTTP/1 response, or the HTTP/2 stream. */
const watches = new WeakMap<ServerResponse | Http2Stream, ClientWatch>();
/** Streams open on each HTTP/2 connection. */
const openStreams = new WeakMap<Http2Session, number>();

const REQUEST_TIMEOUT_PAGE = '408 Request Timeout\n\nThe client sent nothing for too long.\n';
const REQUEST_TIMEOUT_ANSWER = `HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${REQUEST_TIMEOUT_PAGE.length}\r\n\r\n${REQUEST_TIMEOUT_PAGE}`;

/** Applies client-timeout and keep-alive-timeout (seconds) to the server; call before it listens. */
export function applyClientTimeouts(server: Server, clientTimeout: number, keepAliveTimeout: number): void {
  const ms = clientTimeout * 1000;
  server.requestTimeout = 0; // total time is not a client's fault: a big upload may take hours
  server.headersTimeout = ms;
  server.timeout = ms;
  server.keepAliveTimeout = keepAliveTimeout * 1000;
  server.on('timeout', (conn: Socket | Http2Session) =>
    conn instanceof Socket ? onSilence(conn, ms) : onSessionSilence(conn, ms),
  );
  server.on('stream', (stream: Http2Stream) => watchStream(stream, ms));
}

function watchStream(stream: Http2Stream, ms: number): void {
  const session = stream.session!;
  openStreams.set(session, (openStreams.get(session) ?? 0) + 1);
  stream.once('close', () => openStreams.set(session, openStreams.get(session)! - 1));
  stream.setTimeout(ms, () => onStreamSilence(stream, ms));
}

function onStreamSilence(stream: Http2Stream, ms: number): void {
  const watch = watches.get(stream);
  if (watch && !watch.waitingOnClient) return void stream.setTimeout(ms);
  if (watch?.onClientTimeout) return watch.onClientTimeout();
  stream.close(constants.NGHTTP2_CANCEL);
}

/** Streams keep their own time: the connection's timer only closes an idle one. */
function onSessionSilence(session: Http2Session, ms: number): void {
  if ((openStreams.get(session) ?? 0) > 0) return void session.setTimeout(ms);
  session.close();
}

/** A page request's watch: the timer asks it whose turn it is (lib/worker/exchange.ts keeps it current). */
export function watchClient(res: ServerResponse): ClientWatch {
  const watch: ClientWatch = { waitingOnClient: false, onClientTimeout: null };
  watches.set(streamOf(res) ?? res, watch);
  return watch;
}

function onSilence(socket: Socket, ms: number): void {
  const responses = [...openResponses(socket)];
  const pages = responses.map((res) => watches.get(res)).filter((w) => w !== undefined);
  if (pages.some((w) => !w.waitingOnClient)) return void socket.setTimeout(ms);
  const waiting = pages.filter((w) => w.onClientTimeout);
  for (const w of waiting) w.onClientTimeout!();
  if (waiting.length) return;
  if (responses.length === 0 && headBegun(socket) && socket.writable) {
    socket.end(REQUEST_TIMEOUT_ANSWER);
    setTimeout(() => socket.destroy(), 1000).unref(); // a client that does not read even that
    return;
  }
  socket.destroy();
}
