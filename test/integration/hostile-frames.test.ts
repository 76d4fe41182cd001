// A page runs inside its worker and can write any frame onto the worker's
// pipe to Node. Frames that break lib/worker/protocol.md end that request
// and replace that worker, logged with the request id and the script; Node
// never buffers or parses without bound for them (test/fixtures/pages/forge_frames.py).
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, waitFor, type TestServer } from '../helpers.js';

const FLOOD_MB = 64;

/** Sends a GET and does not read the answer until `readWhen` resolves; then reads it to the close. Resolves with every byte. */
function stalledGet(port: number, target: string, readWhen: Promise<unknown>): Promise<Buffer> {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.pause();
  socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
  readWhen.then(() => socket.resume());
  return new Promise((resolve) => {
    socket.on('error', () => {});
    socket.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid of the forge_frames.py worker that the log says was killed for a protocol error with `reason` in it. */
function killedWorker(s: TestServer, reason: string): number | undefined {
  const line = s.log.errors.find((l) => l.includes('killing the worker') && l.includes(reason));
  const pid = line && /\[forge_frames\.py pid (\d+)\]/.exec(line)?.[1];
  return pid ? Number(pid) : undefined;
}

describe('frames a page forges', () => {
  let s: TestServer;
  beforeAll(async () => (s = await startTestServer()));
  afterAll(() => s.stop());

  it('a page that sends response bytes beyond its credit to a client that reads nothing: cut, worker replaced, bounded', async () => {
    const violation = waitFor(
      () => s.log.errors.find((l) => l.includes('protocol violation') && l.includes('beyond the credit')),
      'the credit violation in the log',
      30_000,
    );
    const received = await stalledGet(s.port, `/forge_frames.py?kind=flood&mb=${FLOOD_MB}`, violation);
    const line = await violation;
    expect(line).toMatch(/request \S+ \(.*forge_frames\.py\)/); // its request id and script
    expect(received.toString('latin1', 0, 15)).toBe('HTTP/1.1 200 OK');
    expect(received.includes('0\r\n\r\n')).toBe(false); // cut, not ended: the client can tell
    // What Node took from the page before it noticed: the window and the socket's buffers, not the flood.
    expect(received.length).toBeLessThan((FLOOD_MB / 4) * 1024 * 1024);
    const pid = await waitFor(() => killedWorker(s, 'beyond the credit'), 'the worker killed');
    await waitFor(() => !isAlive(pid), 'the worker gone');
    expect(await (await s.get('/hello.py')).text()).toBe('Hello, World!');
  }, 60_000);

  for (const [kind, reason] of [
    ['start-twice', 'a second START'],
    ['foreign-id', 'not in flight'],
    ['read-grant', 'past 262144'],
    ['watch-huge', 'WATCH of 25000 files'],
  ] as const) {
    it(`${kind}: the request is cut and the worker replaced`, async () => {
      const received = await stalledGet(s.port, `/forge_frames.py?kind=${kind}`, Promise.resolve());
      expect(received.includes('0\r\n\r\n')).toBe(false); // cut (before or after its head), never a whole answer
      const pid = await waitFor(() => killedWorker(s, reason), `the worker killed for "${reason}"`);
      await waitFor(() => !isAlive(pid), 'the worker gone');
      expect(await (await s.get('/hello.py')).text()).toBe('Hello, World!');
    });
  }
});
