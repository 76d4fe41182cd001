// A pid names a process only together with its start time: a pid that has
// been reused is another process, and is never signalled.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { identify, isAlive, signalIfAlive, watchUntilGone } from '../../../lib/util/process-identity.js';

const sleeper = () => spawn('sleep', ['30'], { stdio: 'ignore' });

describe('process identity', () => {
  it('names a live process by pid and start time', () => {
    const me = identify(process.pid)!;
    expect(me.pid).toBe(process.pid);
    expect(me.start).toBeGreaterThan(0);
    expect(identify(process.pid)).toEqual(me);
    expect(isAlive(me)).toBe(true);
  });

  it('does not take a pid with another start time for the process it knew, and never signals it', async () => {
    const child = sleeper();
    const real = identify(child.pid!)!;
    const reused = { pid: real.pid, start: real.start! + 1 };
    expect(isAlive(reused)).toBe(false);
    expect(signalIfAlive(reused, 'SIGKILL')).toBe(false);
    expect(isAlive(real)).toBe(true); // untouched
    const exited = once(child, 'exit');
    expect(signalIfAlive(real, 'SIGKILL')).toBe(true);
    expect(await exited).toEqual([null, 'SIGKILL']);
    expect(identify(real.pid)).toBeNull();
    expect(signalIfAlive(real, 'SIGKILL')).toBe(false);
  });

  it('counts a zombie (exited, not reaped yet) as gone', async () => {
    // `sh` forks `sleep 0` and waits on something else meanwhile, so its child stays a zombie for a second.
    const sh = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 1'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const [line] = (await once(sh.stdout!.setEncoding('utf8'), 'data')) as [string];
    const pid = Number(line.trim());
    const deadline = Date.now() + 900;
    while (Date.now() < deadline && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'latin1')))
      await new Promise((r) => setTimeout(r, 10));
    expect(readFileSync(`/proc/${pid}/stat`, 'latin1')).toMatch(/\) Z /); // its /proc entry is still there
    expect(identify(pid)).toBeNull();
    expect(isAlive({ pid, start: null })).toBe(false);
    await once(sh, 'exit');
  });

  it('tells a watcher when the process has gone, and only then', async () => {
    const child = sleeper();
    const id = identify(child.pid!)!;
    let told = 0;
    const gone = new Promise<void>((resolve) =>
      watchUntilGone(id, () => {
        told++;
        resolve();
      }),
    );
    const stillHere = { told: false };
    const stop = watchUntilGone(identify(process.pid)!, () => (stillHere.told = true));
    await new Promise((r) => setTimeout(r, 300)); // a poll or so while it lives
    expect(told).toBe(0);
    child.kill('SIGKILL');
    await gone;
    stop();
    expect(told).toBe(1);
    expect(stillHere.told).toBe(false);
  });
});
