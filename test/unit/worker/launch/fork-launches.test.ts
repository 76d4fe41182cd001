// Launches under way on a fork server: a child's two connections matched to
// its launch by token. Sockets are stand-ins (a PassThrough reads and closes
// as a socket does); process ids never name a live process.
import type { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../../../../lib/util/log.js';
import { ForkLaunches } from '../../../../lib/worker/launch/fork-launches.js';
import type { LaunchOptions } from '../../../../lib/worker/launch/spawn.js';

const opts = { tag: 'test.py', log: memoryLogger() } as unknown as LaunchOptions;
/** The id of no live process: this pid with a start time it does not have. */
const NOBODY = { pid: process.pid, start: 1 };

function connect(launches: ForkLaunches, header: string): PassThrough {
  const socket = new PassThrough();
  launches.connection(socket as unknown as Socket);
  socket.write(header);
  return socket;
}

const turn = () => new Promise((r) => setImmediate(r));

describe('ForkLaunches', () => {
  it('settles a launch once its child is forked and has made all three connections', async () => {
    const launches = new ForkLaunches();
    const { token, child } = launches.begin(opts);
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    const frames = connect(launches, `${token}F`);
    launches.forked(token, NOBODY);
    let settled = false;
    void child.then(() => (settled = true));
    await turn();
    expect(settled).toBe(false);
    connect(launches, `${token}O`);
    await turn();
    expect(settled).toBe(false);
    connect(launches, `${token}E`);
    const proc = await child;
    expect(proc.pid).toBe(process.pid);
    expect(proc.input).toBe(frames);
  });

  it('closes a connection that is not one of ours, or a second one of a kind', async () => {
    const launches = new ForkLaunches();
    const { token, child } = launches.begin(opts);
    const stranger = connect(launches, `${'0'.repeat(32)}F`);
    const first = connect(launches, `${token}O`);
    const second = connect(launches, `${token}O`);
    const firstErrors = connect(launches, `${token}E`);
    const secondErrors = connect(launches, `${token}E`);
    const badKind = connect(launches, `${token}X`);
    await turn();
    const closed = [stranger, first, second, firstErrors, secondErrors, badKind].map((s) => s.destroyed);
    expect(closed).toEqual([true, false, true, false, true, true]);
    launches.failAll('done');
    await expect(child).rejects.toThrow('done');
  });

  it('fails a launch with the reason, closing what it had', async () => {
    const launches = new ForkLaunches();
    const { token, child } = launches.begin(opts);
    const frames = connect(launches, `${token}F`);
    await turn();
    launches.fail(token, 'fork failed: EAGAIN');
    await expect(child).rejects.toThrow('fork failed: EAGAIN');
    expect(frames.destroyed).toBe(true);
  });

  it('has nothing for a child whose launch already gave up', async () => {
    const launches = new ForkLaunches();
    const { token, child } = launches.begin(opts);
    launches.failAll('the zygote is gone');
    await expect(child).rejects.toThrow('the zygote is gone');
    expect(launches.forked(token, NOBODY)).toBeNull();
  });
});
