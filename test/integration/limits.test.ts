// Faults injected on purpose: a killed worker, a hung page, a frozen
// interpreter, a memory hog, a full queue, many scripts under a process cap.
// Each under both launch modes, except the 500 scripts under a process cap:
// the slowest test of the suite (minutes on a loaded machine) runs under the
// default (fork) only, as the cap it checks is kept by the group registry
// whatever starts the workers.
import { spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  groupLoad,
  LAUNCHES,
  pythonDescendants,
  serveTempRoot,
  startTestServer,
  waitFor,
  type TestServer,
} from '../helpers.js';

const PYTHON = '/usr/bin/python3';
/** hog.py's allocation, answering which call of its worker this is. */
const CALLS_PAGE = `import os
from urllib.parse import parse_qs
held = []
def application(environ, start_response):
    mb = int(parse_qs(environ["QUERY_STRING"]).get("mb", ["0"])[0])
    held.append(bytearray(os.urandom(1024)) * (mb * 1024))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"pid %d, call %d" % (os.getpid(), len(held))]
`;

interface Who {
  pid: number;
  count: number;
}

describe.each(LAUNCHES)('launch %s', (launch) => {
  describe('a worker killed mid-request', () => {
    let s: TestServer;
    beforeAll(async () => (s = await startTestServer({ launch })));
    afterAll(() => s.stop());

    it('answers that request 502 and the next one 200', async () => {
      const { pid } = (await (await s.get('/whoami.py')).json()) as Who;
      const pending = s.get('/whoami.py?sleep=5');
      await waitFor(() => groupLoad(s, 'whoami.py').running === 1, 'the request to run on the worker');
      process.kill(pid, 'SIGKILL');
      expect((await pending).status).toBe(502);
      const next = (await (await s.get('/whoami.py')).json()) as Who;
      expect(next.pid).not.toBe(pid);
    });
  });

  describe('request-timeout', () => {
    let s: TestServer;
    beforeAll(async () => (s = await startTestServer({ launch, requestTimeout: 1 })));
    afterAll(() => s.stop());

    it('answers a hung page 504, logs where it was stuck, and the next request works', async () => {
      const started = Date.now();
      const res = await s.get('/spin.py');
      expect(res.status).toBe(504);
      expect(Date.now() - started).toBeLessThan(5000);
      await waitFor(() => s.log.errors.some((l) => l.includes('stuck_in_a_loop')), 'the Python stack in the error log');
      expect(s.log.errors.some((l) => l.includes('ran longer than request-timeout'))).toBe(true);
      expect((await s.get('/hello.py')).status).toBe(200);
      copyFileSync(join(s.root, 'hello.py'), join(s.root, 'spin.py'));
      expect((await s.get('/spin.py')).status).toBe(200);
    });

    it('times out a page that hangs after reading its body, whatever its size', async () => {
      // The body is pushed to the worker; the page's last READ may cross the end of the body on the way.
      for (const size of [10, 300_000]) {
        const res = await s.get('/reads_then_spins.py', { method: 'POST', body: Buffer.alloc(size, 97) });
        expect(res.status).toBe(504);
        await res.arrayBuffer();
      }
    });

    it('does not count time spent waiting on a slow upload', async () => {
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (sent === 4) return controller.close();
          await new Promise((r) => setTimeout(r, 500)); // a sleep on purpose: a slow upload, 2 s in all, twice the timeout
          sent++;
          controller.enqueue(new TextEncoder().encode('slow '));
        },
      });
      const res = await s.get('/echo.py', { method: 'POST', body, duplex: 'half' } as RequestInit);
      expect(res.status).toBe(200);
      expect((await res.text()).startsWith('20 ')).toBe(true);
    });
  });

  describe('heartbeat', () => {
    let s: TestServer;
    beforeAll(async () => (s = await startTestServer({ launch, heartbeatTimeout: 1, requestTimeout: 0 })));
    afterAll(() => s.stop());

    it('replaces a worker whose interpreter froze, logging its stacks', async () => {
      const res = await s.get('/freeze.py');
      expect(res.status).toBe(502);
      expect(s.log.errors.some((l) => l.includes('no heartbeat'))).toBe(true);
      await waitFor(() => s.log.errors.some((l) => l.includes('freeze.py", line')), 'the frozen stack');
      expect((await s.get('/hello.py')).status).toBe(200);
    });
  });

  describe('recycling', () => {
    it('recycles a worker over max-memory, gracefully', async () => {
      const s = await startTestServer({ launch, maxMemory: '80M' as unknown as number });
      try {
        const first = await (await s.get('/hog.py?mb=100')).text();
        await waitFor(async () => (await (await s.get('/hog.py?mb=0')).text()) !== first, 'a new worker', 8000);
        expect(s.log.errors.some((l) => l.includes('over max-memory'))).toBe(false); // recycling is info, not an error
      } finally {
        await s.stop();
      }
    });

    it('watches the memory of the process it started, whatever pid the worker claims', async () => {
      // A page's own code runs before READY: a .pth file in its virtualenv makes os.getpid() lie.
      const s = await serveTempRoot(
        (root) => {
          writeFileSync(join(root, 'calls.py'), CALLS_PAGE);
          const venv = join(root, '.venv');
          spawnSync(PYTHON, ['-m', 'venv', '--without-pip', venv], { stdio: 'ignore' });
          const [site] = readdirSync(join(venv, 'lib')).map((v) => join(venv, 'lib', v, 'site-packages'));
          writeFileSync(join(site, 'lie.pth'), 'import os; os.getpid = lambda: 1\n'); // site runs a .pth's imports
        },
        { launch, maxMemory: '80M' as unknown as number },
      );
      try {
        expect(await (await s.get('/calls.py?mb=100')).text()).toBe('pid 1, call 1'); // the lie took
        await waitFor(async () => (await (await s.get('/calls.py')).text()) === 'pid 1, call 1', 'a new worker', 8000);
        expect(s.log.errors.join('\n')).toMatch(/the worker said its pid was 1; pid \d+ is watched/);
      } finally {
        await s.stop();
      }
    });

    it('recycles a worker after max-requests', async () => {
      const s = await startTestServer({ launch, maxRequests: 3 });
      try {
        const pids = [];
        for (let i = 0; i < 7; i++) pids.push(((await (await s.get('/whoami.py')).json()) as Who).pid);
        expect(new Set(pids.slice(0, 3)).size).toBe(1);
        expect(pids[3]).not.toBe(pids[0]);
        expect(new Set(pids).size).toBe(3);
      } finally {
        await s.stop();
      }
    });
  });

  describe('queueing', () => {
    it('answers 503 with Retry-After past queue-limit, and serves the rest', async () => {
      const s = await startTestServer({ launch, threads: 1, queueLimit: 1 });
      try {
        const first = s.get('/sleepy.py?s=0.6');
        await waitFor(() => groupLoad(s, 'sleepy.py').running === 1, 'the first request on the only thread');
        const second = s.get('/sleepy.py?s=0.6');
        await waitFor(() => groupLoad(s, 'sleepy.py').queued === 1, 'the second request in line');
        const statuses = await Promise.all([first, second, s.get('/sleepy.py?s=0.6')]);
        expect(statuses.map((r) => r.status).sort()).toEqual([200, 200, 503]);
        expect(statuses.find((r) => r.status === 503)!.headers.get('retry-after')).toBe('1');
      } finally {
        await s.stop();
      }
    });

    it('answers 503 after queue-timeout', async () => {
      const s = await startTestServer({ launch, threads: 1, queueTimeout: 0.3 });
      try {
        const running = s.get('/sleepy.py?s=1.5');
        await waitFor(() => groupLoad(s, 'sleepy.py').running === 1, 'the slow request on the only thread');
        const [slow, waiting] = await Promise.all([running, s.get('/sleepy.py')]);
        expect(slow.status).toBe(200);
        expect(waiting.status).toBe(503);
      } finally {
        await s.stop();
      }
    });
  });
});

describe('max-workers with many scripts', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ maxWorkers: 4 });
    for (let i = 0; i < 500; i++) copyFileSync(join(s.root, 'hello.py'), join(s.root, `many${i}.py`));
  });
  afterAll(() => s.stop());

  it('serves 500 distinct scripts in turn without ever running more Python workers than the cap', async () => {
    let peak = 0;
    // Every Python process below us is a worker, except the warm fork-server parents (our direct children).
    const workers = async () =>
      (await pythonDescendants()).filter((p) => !(p.ppid === process.pid && p.cmdline.includes('forkserver'))).length;
    for (let i = 0; i < 500; i++) {
      const res = await s.get(`/many${i}.py`);
      expect(res.status, `many${i}.py`).toBe(200);
      await res.text();
      if (i % 10 === 0) peak = Math.max(peak, await workers());
      expect(s.groups.liveProcesses).toBeLessThanOrEqual(4);
    }
    expect(peak).toBeLessThanOrEqual(4);
    expect(peak).toBeGreaterThan(1);
  }, 180_000);
});
