// The caps on a tenant as a whole, with the real server and real Python
// workers: tenant-max-workers (its live processes), tenant-max-requests
// (its requests running or waiting: 503 with Retry-After past it, and the
// count back to none however requests end), and fair turns when processes
// are scarce (a flooding tenant does not push another to the back). Two
// sites by Host are two tenants: not started as root, a tenant is a site;
// as root (CI), each site's files belong to a user of its own, made for the
// test, and its pages run as that user, the tenant.
import { chmodSync, copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeConfig } from '../../lib/config/config.js';
import { memoryLogger } from '../../lib/util/log.js';
import { startPypages, type RunningServer } from '../../server/app.js';
import { FIXTURES, removeDir, tempDir, waitFor } from '../helpers.js';
import {
  type Flood,
  flood,
  hostRequest,
  liveOf,
  type Measured,
  measure,
  median,
  percentile,
  tenantOf,
} from '../tenant-load.js';
import { isRoot, makeTestUsers, type TestUsers } from '../tenant-users.js';

const CRASH = 'import os\n\n\ndef application(environ, start_response):\n    os._exit(3)\n';
const SPIN = 'def application(environ, start_response):\n    while True:\n        pass\n';

interface Running {
  s: RunningServer;
  log: ReturnType<typeof memoryLogger>;
}

let users: TestUsers | null = null;
/** The tenants of sites a and b. */
const tenant = { a: 'site:a', b: 'site:b' };
beforeAll(() => {
  if (!isRoot) return;
  users = makeTestUsers(['alice', 'bob']);
  tenant.a = `user:${users.users.alice.name}`;
  tenant.b = `user:${users.users.bob.name}`;
});
afterAll(() => users?.remove());

let base: string | undefined;
let running: Running | undefined;
afterEach(async () => {
  await running?.s.close();
  running = undefined;
  removeDir(base);
});

/** A site's folder: sleepy copies s1..s6, a crashing and a spinning page; as root, all its user's. */
function populate(root: string, owner: keyof TestUsers['users'] | null): void {
  mkdirSync(root);
  for (let i = 1; i <= 6; i++) copyFileSync(path.join(FIXTURES, 'sleepy.py'), path.join(root, `s${i}.py`));
  writeFileSync(path.join(root, 'crash.py'), CRASH);
  writeFileSync(path.join(root, 'spin.py'), SPIN);
  if (!users || !owner) return;
  const user = users.users[owner];
  users.own(user, root, ...readdirSync(root).map((f) => path.join(root, f)));
}

/** Sites a (a.test) and b (b.test), `a` and `b` their own settings, `top` the server's. */
async function start(a: object, b: object, top: object = {}): Promise<Running> {
  base = users ? path.join(users.base, `run${Date.now()}`) : tempDir('pypages-tenants-');
  mkdirSync(base, { recursive: true });
  chmodSync(base, 0o755);
  const roots = Object.fromEntries(['main', 'a', 'b'].map((n) => [n, path.join(base!, n)]));
  populate(roots.main, null);
  populate(roots.a, 'alice');
  populate(roots.b, 'bob');
  const config = makeConfig({
    root: roots.main,
    port: 0,
    host: '127.0.0.1',
    dev: false,
    ...top,
    sites: [
      { name: 'a', hosts: ['a.test'], root: roots.a, ...a },
      { name: 'b', hosts: ['b.test'], root: roots.b, ...b },
    ] as never,
  });
  const log = memoryLogger();
  running = { s: await startPypages(config, { log }), log };
  return running;
}

describe('tenant-max-workers', () => {
  it('never lets a tenant of three scripts have two live processes; the other tenant is not held to it', async () => {
    const { s } = await start({ 'tenant-max-workers': 1 }, {});
    let peakA = 0;
    let peakB = 0;
    const sampler = setInterval(() => {
      peakA = Math.max(peakA, liveOf(s, 'a'));
      peakB = Math.max(peakB, liveOf(s, 'b'));
    }, 5);
    try {
      // Two rounds of all three scripts of each tenant at once, each page taking 0.3 s.
      for (let round = 0; round < 2; round++) {
        const all = ['a', 'b'].flatMap((t) => [1, 2, 3].map((i) => hostRequest(s, `${t}.test`, `/s${i}.py?s=0.3`)));
        const answers = await Promise.all(all);
        expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
        expect(tenantOf(s, tenant.a).processes).toBeLessThanOrEqual(1);
      }
    } finally {
      clearInterval(sampler);
    }
    expect(peakA).toBe(1);
    expect(peakB).toBe(3); // b ran its three scripts side by side all along
    expect(tenantOf(s, tenant.a).caps.workers).toBe(1);
  });
});

describe('tenant-max-requests', () => {
  it('answers 503 with Retry-After past the cap, logs it with the tenant, and the other tenant is not held to it', async () => {
    const { s, log } = await start({ 'tenant-max-requests': 3 }, {});
    const a = [1, 2, 3].map(() => hostRequest(s, 'a.test', '/s1.py?s=1'));
    await waitFor(() => tenantOf(s, tenant.a).requests === 3, "a's three requests in");
    const over = await Promise.all([hostRequest(s, 'a.test', '/s2.py'), hostRequest(s, 'a.test', '/s1.py')]);
    const b = await Promise.all([1, 2, 3, 4, 5].map(() => hostRequest(s, 'b.test', '/s1.py?s=0.1')));
    expect(over.map((r) => r.status)).toEqual([503, 503]);
    expect(over[0].headers['retry-after']).toBe('1');
    expect(b.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect((await Promise.all(a)).map((r) => r.status)).toEqual([200, 200, 200]);
    // The error log names the request (by the id its answer shows), the tenant and the cap.
    const id = /Request id: (\S+)/.exec(over[0].text)?.[1];
    const line = log.errors.find((l) => l.startsWith(`request ${id}: GET /s2.py → 503`));
    expect(line).toContain(`tenant ${tenant.a} is at tenant-max-requests (3 running or waiting)`);
    await waitFor(() => tenantOf(s, tenant.a).requests === 0, "a's count back to none");
  });

  it('counts every request out however it ends: crash, request-timeout, queue-timeout, client gone', async () => {
    const { s } = await start({ 'tenant-max-requests': 4, 'request-timeout': 2, 'queue-timeout': 0.5, threads: 1 }, {});
    const crash = hostRequest(s, 'a.test', '/crash.py');
    const spin = hostRequest(s, 'a.test', '/spin.py');
    expect((await crash).status).toBe(502);
    // One thread for s1: the second waits in line past queue-timeout, the third's client leaves while it waits.
    const first = hostRequest(s, 'a.test', '/s1.py?s=1');
    await waitFor(() => tenantOf(s, tenant.a).requests === 2, 'the slow page running');
    const queued = hostRequest(s, 'a.test', '/s1.py');
    const leaving = hostRequest(s, 'a.test', '/s1.py', { abortAfterMs: 200 });
    expect((await queued).status).toBe(503);
    expect((await leaving).status).toBe(0); // the client itself hung up
    expect((await spin).status).toBe(504);
    expect((await first).status).toBe(200);
    await waitFor(() => tenantOf(s, tenant.a).requests === 0, "a's count back to none");
    // The whole cap is there again: four at once all run (on four scripts: one thread each).
    for (let round = 0; round < 3; round++) {
      const all = await Promise.all([1, 2, 3, 4].map((i) => hostRequest(s, 'a.test', `/s${i}.py?s=0.05`)));
      expect(all.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    }
    expect(tenantOf(s, tenant.a).requests).toBe(0);
  });

  it('keeps counting a request across a reload, frees it once it ends, and holds the cap after', async () => {
    const { s } = await start({ 'tenant-max-requests': 2 }, {});
    const slow = hostRequest(s, 'a.test', '/s1.py?s=1.5');
    await waitFor(() => tenantOf(s, tenant.a).requests === 1, 'the slow page running');
    const reloaded = s.reload(s.runtime.config); // resolves once the old groups have finished: after `slow`
    await waitFor(() => s.groups.status().length === 0, 'the old group set aside');
    expect(tenantOf(s, tenant.a).requests).toBe(1);
    expect((await hostRequest(s, 'a.test', '/s2.py')).status).toBe(200);
    const second = hostRequest(s, 'a.test', '/s2.py?s=0.5');
    await waitFor(() => tenantOf(s, tenant.a).requests === 2, 'a second request in');
    expect((await hostRequest(s, 'a.test', '/s3.py')).status).toBe(503); // the old request still counts
    expect((await second).status).toBe(200);
    expect((await slow).status).toBe(200);
    await reloaded;
    await waitFor(() => tenantOf(s, tenant.a).requests === 0, "a's count back to none");
    const all = await Promise.all([1, 2].map((i) => hostRequest(s, 'a.test', `/s${i}.py?s=0.2`)));
    expect(all.map((r) => r.status)).toEqual([200, 200]);
  });
});

describe('fair turns when processes are scarce', () => {
  // Tenant A floods: 8 connections, 200 requests at most, two connections on each of its four
  // scripts (more than there are processes), 0.5 s a page. B loads one page, 0.1 s, one request
  // after another. queue-timeout 10 s bounds how long a starved request waits: without turns B's
  // would wait that long, then get 503.
  const A_PAGES = [1, 2, 3, 4].map((i) => `/s${i}.py?s=0.5`);
  const B_PAGE = '/s1.py?s=0.1';

  /** B's figures for the lead's note, printed whatever the outcome. */
  function report(what: string, idle: Measured, loaded: Measured, a: Flood): void {
    const [i, l] = [median(idle.times), median(loaded.times)];
    const ok = (xs: number[]) => xs.filter((x) => x === 200).length;
    console.log(
      `fairness (${what}): B median idle ${i.toFixed(0)} ms, under A's flood ${l.toFixed(0)} ms (x${(l / i).toFixed(2)}); ` +
        `B under the flood: ${ok(loaded.statuses)}/${loaded.statuses.length} answered 200, ` +
        `p90 ${percentile(loaded.times, 90).toFixed(0)} ms, slowest ${Math.max(...loaded.times).toFixed(0)} ms; ` +
        `A sent ${a.sent}, ${ok(a.statuses)} answered 200`,
    );
  }

  it("keeps B's median latency near its idle one when B comes back while A holds every process", async () => {
    // Two processes in all. B's process stops after 1 s idle, so B comes back cold under the flood.
    const { s } = await start({}, { 'idle-timeout': 1 }, { maxWorkers: 2, queueTimeout: 10 });
    await measure(s, 'b.test', B_PAGE, { n: 3 }); // B's worker started and warm
    const idle = await measure(s, 'b.test', B_PAGE, { n: 15 });
    await waitFor(() => liveOf(s, 'b') === 0, "B's idle process stopped");
    const a = flood(s, 'a.test', A_PAGES, 8, 200);
    let loaded: Measured = { times: [], statuses: [] };
    try {
      await waitFor(() => liveOf(s, 'a') === 2, 'the flood holding every process');
      await new Promise((r) => setTimeout(r, 1500));
      loaded = await measure(s, 'b.test', B_PAGE, { n: 15 });
    } finally {
      await a.stop();
      report('max-workers 2, B cold', idle, loaded, a);
    }
    expect(loaded.statuses.every((x) => x === 200)).toBe(true);
    expect(median(loaded.times)).toBeLessThan(Math.max(2 * median(idle.times), median(idle.times) + 150));
    // B's first request waited for one process to finish its requests and stop, not for the flood to pass.
    expect(Math.max(...loaded.times)).toBeLessThan(5000);
  }, 120_000);

  it('gives B every other turn of the only process, however many scripts of A wait', async () => {
    const { s } = await start({}, {}, { maxWorkers: 1, queueTimeout: 10 });
    await measure(s, 'b.test', B_PAGE, { n: 3 });
    const idle = await measure(s, 'b.test', B_PAGE, { n: 15 });
    // Six scripts of A this time: first come first served, B would wait for a turn of each.
    const a = flood(s, 'a.test', [...A_PAGES, '/s5.py?s=0.5', '/s6.py?s=0.5'], 8, 200);
    let loaded: Measured = { times: [], statuses: [] };
    try {
      await waitFor(() => liveOf(s, 'a') === 1, 'the flood holding the process');
      await new Promise((r) => setTimeout(r, 2000));
      loaded = await measure(s, 'b.test', B_PAGE, { forMs: 10_000 });
    } finally {
      await a.stop();
      report('max-workers 1, turns', idle, loaded, a);
    }
    expect(loaded.statuses.every((x) => x === 200)).toBe(true);
    expect(median(loaded.times)).toBeLessThan(Math.max(2 * median(idle.times), median(idle.times) + 150));
    // B waits for one turn of A at a time (1 s, its requests in flight, two process starts: 2-4 s
    // here), not for a turn of each of A's six scripts (9-15 s, past queue-timeout: 503).
    expect(Math.max(...loaded.times)).toBeLessThan(6000);
  }, 120_000);
});
