// What operators get: health, the status page (off by default, loopback
// only), preload, idle stop, and per-group python-path, env, cwd and venv.
// All of it under both launch modes.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findInterpreter } from '../../lib/groups/interpreter.js';
import { LAUNCHES, startTestServer, waitFor, type TestServer } from '../helpers.js';

interface Who {
  pid: number;
  count: number;
  cwd: string;
  env: string | null;
  path: string[];
  prefix: string;
}
interface Status {
  totals: { groups: number; processes: number; served: number };
  groups: { label: string; processes: { pid: number; state: string; served: number; rssBytes: number }[] }[];
}

describe.each(LAUNCHES)('launch %s', (launch) => {
  describe('health and status', () => {
    let s: TestServer;
    beforeAll(async () => (s = await startTestServer({ launch, statusPath: '/server-status' })));
    afterAll(() => s.stop());

    it('answers the health endpoint with 200', async () => {
      const res = await s.get('/-/health');
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('ok\n');
    });

    it('shows each group with its processes, in JSON', async () => {
      const who = (await (await s.get('/whoami.py')).json()) as Who;
      const status = (await (await s.get('/server-status?json')).json()) as Status;
      const group = status.groups.find((g) => g.label === 'whoami.py')!;
      expect(group.processes[0]).toMatchObject({ pid: who.pid, state: 'ready', served: 1 });
      expect(group.processes[0].rssBytes).toBeGreaterThan(1024 * 1024);
      expect(status.totals.processes).toBeGreaterThanOrEqual(1);
    });

    it('shows the same in HTML', async () => {
      const res = await s.get('/server-status');
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(await res.text()).toContain('whoami.py');
    });

    it('judges status-allow by the client behind a trusted proxy, not the proxy', async () => {
      const proxied = await startTestServer({
        launch,
        statusPath: '/server-status',
        statusAllow: ['10.0.0.0/8'],
        trustProxy: ['127.0.0.1'],
      });
      try {
        expect((await proxied.get('/server-status', { headers: { 'X-Forwarded-For': '10.1.2.3' } })).status).toBe(200);
        expect((await proxied.get('/server-status', { headers: { 'X-Forwarded-For': '203.0.113.9' } })).status).toBe(
          404,
        );
        expect((await proxied.get('/server-status')).status).toBe(404); // the proxy itself (loopback) is not in the list
      } finally {
        await proxied.stop();
      }
    });

    it('hides the status page from addresses not in status-allow, and is off by default', async () => {
      const other = await startTestServer({ launch, statusPath: '/server-status', statusAllow: ['10.0.0.0/8'] });
      let off: TestServer | undefined;
      try {
        off = await startTestServer({ launch });
        expect((await other.get('/server-status')).status).toBe(404);
        expect((await off.get('/server-status')).status).toBe(404);
      } finally {
        await Promise.all([other.stop(), off?.stop()]);
      }
    });
  });

  describe('preload and idle-timeout', () => {
    let s: TestServer;
    beforeAll(async () => (s = await startTestServer({ launch, preload: ['whoami.py'], idleTimeout: 1.5 })));
    afterAll(() => s.stop());

    it('starts preloaded groups with the server, then stops them when idle, and starts them again on demand', async () => {
      const [group] = s.groups.status();
      expect(group.label).toBe('whoami.py');
      const preloaded = group.processes[0].pid;
      const who = (await (await s.get('/whoami.py')).json()) as Who;
      expect(who.pid).toBe(preloaded);
      expect(who.count).toBe(1);
      await waitFor(() => s.groups.liveProcesses === 0, 'the idle stop', 6000);
      const again = (await (await s.get('/whoami.py')).json()) as Who;
      expect(again.pid).not.toBe(preloaded);
    });
  });

  describe('per-group python-path, env and cwd', () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startTestServer({
        launch,
        env: { PYPAGES_TEST: 'top' },
        groups: [
          {
            name: 'special',
            match: 'sub/**',
            env: { PYPAGES_TEST: 'special' },
            'python-path': ['/opt/extra'],
            cwd: '/tmp',
          },
        ] as never,
      });
      copyFileSync(join(s.root, 'whoami.py'), join(s.root, 'sub', 'who.py'));
    });
    afterAll(() => s.stop());

    it('applies the top-level settings to ordinary groups', async () => {
      const who = (await (await s.get('/whoami.py')).json()) as Who;
      expect(who.env).toBe('top');
      expect(who.cwd).toBe(s.root); // the script's folder
    });

    it('runs a named group with its own python', async () => {
      const t = await startTestServer({
        launch,
        groups: [{ name: 'debian', match: 'whoami.py', python: '/usr/bin/python3' }] as never,
      });
      try {
        copyFileSync(join(t.root, 'whoami.py'), join(t.root, 'other.py'));
        expect(((await (await t.get('/whoami.py')).json()) as Who).prefix).toBe('/usr');
        const defaultPrefix = execFileSync((await findInterpreter('')).path, ['-c', 'import sys; print(sys.prefix)'], {
          encoding: 'utf8',
        }).trim();
        expect(((await (await t.get('/other.py')).json()) as Who).prefix).toBe(defaultPrefix); // others: the default python
      } finally {
        await t.stop();
      }
    });

    it("applies a named group's own settings", async () => {
      const who = (await (await s.get('/sub/who.py')).json()) as Who;
      expect(who.env).toBe('special');
      expect(who.cwd).toBe('/tmp');
      expect(who.path.slice(0, 2)).toEqual([join(s.root, 'sub'), '/opt/extra']); // the script's folder stays first
    });
  });

  describe('a folder with .venv/', () => {
    let s: TestServer;
    let venv: string;
    beforeAll(async () => {
      s = await startTestServer({ launch });
      mkdirSync(join(s.root, 'app'));
      venv = join(s.root, 'app', '.venv');
      execFileSync((await findInterpreter('')).path, ['-m', 'venv', '--without-pip', venv]);
      copyFileSync(join(s.root, 'whoami.py'), join(s.root, 'app', 'who.py'));
      copyFileSync(join(s.root, 'wsgi_check.py'), join(s.root, 'app', 'wsgi_check.py'));
    }, 60_000);
    afterAll(() => s.stop());

    it('runs the scripts under it with that virtualenv, and hides the venv itself', async () => {
      expect(((await (await s.get('/app/who.py')).json()) as Who).prefix).toBe(venv);
      expect(((await (await s.get('/whoami.py')).json()) as Who).prefix).not.toBe(venv);
      expect((await s.get('/app/.venv/bin/python')).status).toBe(404);
    });

    it('can be turned off', async () => {
      const off = await startTestServer({ launch, venv: 'off' });
      try {
        mkdirSync(join(off.root, 'app', '.venv', 'bin'), { recursive: true });
        copyFileSync(join(off.root, 'whoami.py'), join(off.root, 'app.py'));
        expect(((await (await off.get('/app.py')).json()) as Who).prefix).not.toContain('.venv');
      } finally {
        await off.stop();
      }
    });
  });
});
