// The responses of each connection, in order. Node runs pipelined requests
// at once but queues their responses; two things it leaves undone are done
// here:
//   - a response still queued when its connection dies never hears of it
//     (no 'close'): it is destroyed and given its 'close', so its page is
//     aborted, its request counted as over and its access-log line written;
//   - a request that cannot be parsed after others on the same connection is
//     answered (400, 431, 408) only once their responses have gone, never in
//     their place. The parser stays failed: every further chunk the client
//     sends would be reported as the same error again (chunk attached), so
//     the connection stops being read, and one refusal is kept, whatever the
//     client sends meanwhile.

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

const open = new WeakMap<Socket, Set<ServerResponse>>();
/** socket.bytesRead when its last response finished: more since means a new head has begun. */
const readAtLastResponse = new WeakMap<Socket, number>();

/** Responses of this connection that have not closed yet (in arrival order). */
export function openResponses(socket: Socket): ReadonlySet<ServerResponse> {
  return open.get(socket) ?? new Set();
}

/** True when the client has sent bytes of a request that has no response yet. */
export function headBegun(socket: Socket): boolean {
  return socket.bytesRead > (readAtLastResponse.get(socket) ?? 0);
}

/** Follows a response from its request's arrival; `over` runs once, when it closes or its connection dies. */
export function trackResponse(req: IncomingMessage, res: ServerResponse, over: () => void): void {
  const socket = req.socket;
  let set = open.get(socket);
  if (!set) {
    open.set(socket, (set = new Set()));
    socket.once('close', () => closeQueued(set!));
  }
  set.add(res);
  res.once('finish', () => readAtLastResponse.set(socket, socket.bytesRead));
  res.once('close', () => {
    set!.delete(res);
    over();
  });
}

/** The connection is gone: responses Node still held in its queue will never be sent. */
function closeQueued(set: Set<ServerResponse>): void {
  for (const res of [...set]) {
    if (res.socket) continue; // attached: Node gives it its own 'close'
    res.destroy();
    res.emit('close');
  }
}

const ANSWERS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: '413 Content Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};

/** How long a refused connection whose earlier answers went first may linger, reading and dropping what the client sends. */
const LINGER_MS = 30_000;

/**
 * Answers requests Node's parser refuses (malformed, head too large, too
 * slow) and closes the connection, without taking the place of answers due
 * to earlier requests on it: the refusal (the status, unless the broken
 * request's own answer has begun) waits for them. Meanwhile nothing more is
 * read from the connection (its earlier answers stay bounded by
 * client-timeout like any other); one refusal is kept, whatever the client
 * sends.
 */
export function answerClientErrors(server: Server): void {
  const failed = new WeakMap<Socket, 'held' | 'refused'>();
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const state = failed.get(socket);
    if (state === 'held') return stopReading(socket); // Node read on once the earlier answers drained
    if (state === 'refused') return; // what the client sends after the refusal is dropped
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    const status = ANSWERS[err.code ?? ''] ?? '400 Bad Request';
    const pending = [...openResponses(socket)];
    const broken = pending.find((res) => !res.req.complete);
    const earlier = pending.filter((res) => res !== broken);
    if (earlier.length === 0) {
      failed.set(socket, 'refused');
      return refuse(socket, status, broken, 1000); // a client that does not read even that: 1 s
    }
    failed.set(socket, 'held');
    stopReading(socket);
    afterAll(earlier, () => {
      failed.set(socket, 'refused');
      readOn(socket);
      refuse(socket, status, broken, LINGER_MS);
    });
  });
}

/**
 * Node's own pause of a connection whose answers lag (its guard against a
 * flood of pipelined requests): the socket's handle stops reading. Node
 * resumes it when those answers drain; a chunk read then fails again and
 * lands here again.
 */
function stopReading(socket: Socket): void {
  (socket as Socket & { _paused: boolean })._paused = true;
  socket.pause();
}

function readOn(socket: Socket): void {
  (socket as Socket & { _paused: boolean })._paused = false;
  socket.resume();
}

function afterAll(responses: ServerResponse[], then: () => void): void {
  let left = responses.length;
  for (const res of responses) {
    let gone = false;
    const next = () => !gone && (gone = true) && --left === 0 && then();
    res.once('close', next).once('finish', next);
  }
}

/**
 * Writes the status (unless the broken request's own answer has begun),
 * closes our side once all written has left, and reads on, dropping what
 * comes, until the client closes too or `lingerMs` pass (client-timeout
 * ends a silent one sooner): a socket closed with unread input is reset,
 * and the reset would discard answers the client has not read yet
 * (Apache's lingering close).
 */
function refuse(socket: Socket, status: string, broken: ServerResponse | undefined, lingerMs: number): void {
  if (socket.writable && !broken?.headersSent) {
    const body = `${status}\n`;
    socket.write(
      `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
  }
  socket.end();
  socket.once('end', () => socket.destroy());
  setTimeout(() => socket.destroy(), lingerMs).unref();
}
