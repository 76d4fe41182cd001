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

/**
 * Answers requests Node's parser refuses (malformed, head too large, too
 * slow) and closes the connection, without taking the place of answers due
 * to earlier requests on it: a broken head waits for them; a broken body
 * (its request's answer is then the last one) cuts the connection once they
 * have gone, with the status if nothing of that answer was sent. Nothing
 * more is read from the connection; its earlier answers stay bounded by
 * client-timeout like any other.
 */
export function answerClientErrors(server: Server): void {
  const failed = new WeakSet<Socket>();
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    stopReading(socket);
    if (failed.has(socket)) return;
    failed.add(socket);
    const status = ANSWERS[err.code ?? ''] ?? '400 Bad Request';
    const pending = [...openResponses(socket)];
    const broken = pending.find((res) => !res.req.complete);
    const earlier = pending.filter((res) => res !== broken);
    if (earlier.length === 0) return refuse(socket, status, broken);
    if (broken) return void broken.destroy(); // it closes the connection once it is its turn to answer
    afterAll(earlier, () => refuse(socket, status, undefined));
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

function afterAll(responses: ServerResponse[], then: () => void): void {
  let left = responses.length;
  for (const res of responses) {
    let gone = false;
    const next = () => !gone && (gone = true) && --left === 0 && then();
    res.once('close', next).once('finish', next);
  }
}

/** The status, unless the broken request's own answer has begun; then the connection is closed. */
function refuse(socket: Socket, status: string, broken: ServerResponse | undefined): void {
  if (socket.writable && !broken?.headersSent) {
    const body = `${status}\n`;
    socket.write(
      `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
  }
  socket.destroySoon();
  setTimeout(() => socket.destroy(), 1000).unref(); // a client that does not read even that
}
