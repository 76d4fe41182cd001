// Clients that leave: a connection cut after the first n bytes of a request,
// with FIN (socket.end(): "I will send no more") or RST
// (socket.resetAndDestroy(): gone), or cut once the response has started.

import { once } from 'node:events';
import { connect } from 'node:net';
import { parseAll } from './http-wire.mjs';
import { unreadTable } from './procs.mjs';

const STALL_MS = 150; // a write that has not drained for this long: the server has stopped reading
const SETTLE_MS = 30; // unread bytes unchanged this long: the server has stopped reading
const SETTLE_MAX_MS = 400;

/**
 * Connects, sends bytes[0..n), then cuts `how` ('fin' | 'rst'). Resolves once
 * the cut is made, with { stalled, outcome }: `stalled` when the server had
 * stopped reading before all n bytes were sent (the cut then comes earlier,
 * as when a client gives up on a stuck upload), and `outcome`, a promise of
 * what the client then saw ({ responses, error, closed, timedOut, raw }):
 * for FIN everything until the server closes (or deadlineMs), for RST nothing.
 * Rejects if the connection cannot be made.
 */
export async function cutAt(port, bytes, n, how, { deadlineMs = 20_000, head = false } = {}) {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await Promise.race([
    once(socket, 'connect'),
    once(socket, 'close').then(() => Promise.reject(new Error(`cannot connect to port ${port}`))),
  ]);
  const outcome =
    how === 'fin'
      ? observe(socket, deadlineMs, head)
      : Promise.resolve({ responses: [], error: null, closed: true, timedOut: false, raw: Buffer.alloc(0) });
  const stalled = n > 0 ? !(await written(socket, bytes.subarray(0, n))) : false;
  if (how === 'fin') {
    socket.end();
  } else {
    if (!stalled) await consumed(port, socket.localPort);
    socket.resetAndDestroy();
  }
  return { stalled, outcome };
}

/**
 * Sends all of `bytes`, waits for the first bytes of the response, then cuts
 * `how`. After a FIN it reads on to the end (the response must still arrive
 * whole); after an RST it is gone. Resolves with the outcome, like cutAt's.
 */
export async function cutAfterResponseStarts(port, bytes, how, { deadlineMs = 30_000, head = false } = {}) {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await Promise.race([
    once(socket, 'connect'),
    once(socket, 'close').then(() => Promise.reject(new Error(`cannot connect to port ${port}`))),
  ]);
  const outcome = observe(socket, deadlineMs, head, () => {
    if (how === 'fin') socket.end();
    else socket.resetAndDestroy();
  });
  socket.write(bytes);
  return outcome;
}

/** Everything that arrives until the socket closes or the deadline; `onFirst` runs once, when the first bytes come. */
function observe(socket, deadlineMs, head, onFirst = () => {}) {
  return new Promise((resolve) => {
    const chunks = [];
    let first = true;
    const finish = (timedOut) => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks);
      socket.destroy();
      resolve({ ...parseAll(raw, { eof: true, head }), closed: !timedOut, timedOut, raw });
    };
    const timer = setTimeout(() => finish(true), deadlineMs);
    socket.on('data', (d) => {
      chunks.push(d);
      if (first) {
        first = false;
        onFirst();
      }
    });
    socket.once('close', () => finish(false));
  });
}

/** Writes `data`; true once the kernel took it all, false if it stopped draining for STALL_MS (or the socket died). */
function written(socket, data) {
  return new Promise((resolve) => {
    let last = -1;
    const check = setInterval(() => {
      if (socket.destroyed) return done(false);
      if (socket.writableLength === last) return done(false);
      last = socket.writableLength;
    }, STALL_MS);
    const done = (ok) => {
      clearInterval(check);
      resolve(ok);
    };
    socket.write(data, (err) => done(!err));
  });
}

/**
 * Waits until the server has read what was sent (the kernel holds nothing
 * unread for it), or has stopped reading: an RST that overtakes unread data
 * reads as a plain end of stream on Linux, not as the reset it is. All the
 * cuts waiting at one time share one poll of /proc/net/tcp.
 */
function consumed(serverPort, clientPort) {
  return new Promise((resolve) => {
    waiters.add({ key: `${serverPort}>${clientPort}`, resolve, last: null, since: Date.now(), started: Date.now() });
    if (waiters.size === 1) setTimeout(poll, 1);
  });
}

const waiters = new Set();

function poll() {
  const table = unreadTable();
  const now = Date.now();
  for (const w of waiters) {
    const unread = table.get(w.key);
    if (unread !== w.last) [w.last, w.since] = [unread, now];
    // 0 or gone (the server closed it): read; unchanged for SETTLE_MS: the server stopped reading.
    if (!unread || now - w.since >= SETTLE_MS || now - w.started >= SETTLE_MAX_MS) {
      waiters.delete(w);
      w.resolve();
    }
  }
  if (waiters.size) setTimeout(poll, 2);
}
