// A page's processes live no longer than its worker: a daemon it started
// (fork, setsid, stdio closed: test/fixtures/supervisor/detach.py) is killed
// once its worker has ended, by idle-timeout or by a reload, not only when
// the whole server stops.
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LAUNCHES, startTestServer, waitFor, type TestServer } from '../helpers.js';

const DETACH = new URL('../fixtures/supervisor/detach.py', import.meta.url).pathname;

function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !'ZX'.includes(stat[stat.lastIndexOf(')') + 2]);
  } catch {
    return false;
  }
}

/** Starts the daemon page on `s` and answers the daemon's pid once it runs in a session of its own. */
async function daemonOf(s: TestServer): Promise<number> {
  copyFileSync(DETACH, join(s.root, 'detach.py'));
  const daemon = Number(await (await s.get('/detach.py')).text());
  await waitFor(() => {
    const stat = readFileSync(`/proc/${daemon}/stat`, 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]) === daemon;
  }, 'the daemon in a session of its own');
  return daemon;
}

describe.each(LAUNCHES)('launch %s: what a page leaves running', (launch) => {
  let s: TestServer | null = null;
  afterEach(async () => {
    await s?.stop();
    s = null;
  });

  it('dies when idle-timeout stops its worker', async () => {
    s = await startTestServer({ launch, idleTimeout: 1 });
    const daemon = await daemonOf(s);
    await waitFor(() => s!.groups.liveProcesses === 0, 'the idle worker stopped', 10_000);
    await waitFor(() => !running(daemon), 'the daemon killed');
    const said = new RegExp(
      `\\[detach\\.py pid \\d+\\] killed \\d+ process\\(es\\) its page left running \\(pids [\\d ]*\\b${daemon}\\b`,
    );
    await waitFor(() => s!.log.errors.some((l) => said.test(l)), 'the kill in the log');
  }, 30_000);

  it('dies when a reload replaces its worker', async () => {
    s = await startTestServer({ launch, idleTimeout: 60 });
    const daemon = await daemonOf(s);
    await s.reload(s.runtime.config);
    await waitFor(() => !running(daemon), 'the daemon killed', 10_000);
    expect((await s.get('/hello.py')).status).toBe(200);
  }, 30_000);
});
