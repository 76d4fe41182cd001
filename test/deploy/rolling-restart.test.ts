// deploy/rolling-restart.mjs, for real: three pypages instances (the
// `pypages` command, restarted as systemd would) behind Debian's HAProxy with
// deploy/haproxy/balancer.cfg, under a bounded load of ROLLING_CLIENTS
// clients for ROLLING_SECONDS (10 for 10 s here; `npm run deploy:rolling`
// runs 20 for 30 s), or until the restart is over if it takes longer. Each instance is restarted in turn while the load runs; every
// request sent must be answered, whole.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, tempDir, waitFor } from '../helpers.js';
import { Fleet } from './fleet.js';
import { DEPLOY, FIXTURES, freePort, haproxyUser, render, startHaproxy, type ProxyProcess } from './harness.js';
import { startLoad } from './load.js';

const SECONDS = Number(process.env.ROLLING_SECONDS ?? 10);
const CLIENTS = Number(process.env.ROLLING_CLIENTS ?? 10);
const THINK_MS = 20; // each client's pause between an answer and its next request
const NAMES = ['s1', 's2', 's3'];

/** One command on HAProxy's admin socket; its answer. */
function haproxyCommand(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const s = connect(socket, () => s.end(`${command}\n`));
    s.on('data', (d) => (answer += d));
    s.on('error', reject);
    s.on('close', () => resolve(answer));
  });
}

/** The status HAProxy gives each server of backend pypages (UP, DOWN, DRAIN...). */
async function statuses(socket: string): Promise<Record<string, string>> {
  const [header, ...rows] = (await haproxyCommand(socket, 'show stat')).trim().split('\n');
  const columns = header.replace(/^# /, '').split(',');
  const at = (name: string) => columns.indexOf(name);
  const out: Record<string, string> = {};
  for (const cells of rows.map((r) => r.split(',')))
    if (cells[at('pxname')] === 'pypages' && NAMES.includes(cells[at('svname')]))
      out[cells[at('svname')]] = cells[at('status')];
  return out;
}

function rollingRestart(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(DEPLOY, 'rolling-restart.mjs'), ...args], (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

describe('a rolling restart of three pypages behind HAProxy', () => {
  let dir: string;
  let fleet: Fleet;
  let haproxy: ProxyProcess;
  let port: number;
  let admin: string;
  beforeAll(async () => {
    dir = tempDir('pypages-deploy-rolling-');
    const root = join(dir, 'www');
    mkdirSync(root);
    copyFileSync(join(FIXTURES, 'instance.py'), join(root, 'instance.py'));
    fleet = new Fleet(root, dir, ['--trust-proxy', '127.0.0.1']);
    const ports = await Promise.all(NAMES.map(() => freePort()));
    await Promise.all(NAMES.map((name, i) => fleet.start(name, ports[i])));
    port = await freePort();
    admin = join(dir, 'admin.sock');
    const servers = Object.fromEntries(NAMES.map((name, i) => [name.toUpperCase(), `127.0.0.1:${ports[i]}`]));
    const config = render('haproxy/balancer.cfg', {
      ...haproxyUser(),
      ...servers,
      BIND: `127.0.0.1:${port}`,
      HAPROXY_ADMIN: admin,
    });
    haproxy = await startHaproxy(dir, config, [port]);
    await waitFor(
      async () => Object.values(await statuses(admin)).filter((s) => s === 'UP').length === 3,
      'HAProxy to see the three instances UP',
      30_000,
    );
  });
  afterAll(async () => {
    await haproxy?.stop();
    await fleet?.stop();
    removeDir(dir);
  });

  it(
    `restarts each instance in turn under ${CLIENTS} clients for ${SECONDS} s, and loses no request`,
    async () => {
      const load = startLoad({
        port,
        clients: CLIENTS,
        maxSeconds: SECONDS + 120,
        maxRequests: 2_000_000,
        thinkMs: THINK_MS,
      });
      const started = Date.now();
      await waitFor(() => load.counts.answered >= CLIENTS * 3, 'the load to flow', 30_000);
      const restart = await rollingRestart([
        ...['--admin', admin, '--backend', 'pypages', '--timeout', '60'],
        ...['--restart', fleet.restartCommand()],
      ]);
      const answeredAtEnd = load.counts.answered;
      // The load goes on for its full time, and at least until the last instance has served some of it.
      await waitFor(
        () => Date.now() - started >= SECONDS * 1000 && load.counts.answered > answeredAtEnd + CLIENTS,
        'the rest of the load',
        SECONDS * 1000 + 60_000,
      );
      const counts = await load.stop();
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      console.log(
        `rolling restart under ${CLIENTS} clients for ${seconds} s: sent ${counts.sent}, answered ${counts.answered}, ` +
          `failed ${counts.failed} ${JSON.stringify(counts.failures)}; by instance ${JSON.stringify(counts.byInstance)}\n` +
          restart.output,
      );
      expect(restart.code, restart.output).toBe(0);
      expect(counts.failed, JSON.stringify(counts.failures)).toBe(0);
      expect(counts.answered).toBe(counts.sent);
      for (const instance of fleet.instances) {
        expect(instance.pids, `${instance.name} restarted once:\n${fleet.tail(instance.name)}`).toHaveLength(2);
        expect(counts.byInstance[instance.name]).toBeGreaterThan(0);
      }
      expect(await statuses(admin)).toEqual({ s1: 'UP', s2: 'UP', s3: 'UP' });
    },
    (SECONDS + 180) * 1000,
  );

  it('stops at a restart that fails, leaving that one instance drained and the others serving; runs again from there', async () => {
    const failed = await rollingRestart(['--admin', admin, '--backend', 'pypages', '--restart', 'exit 3']);
    expect(failed.code).toBe(1);
    expect(failed.output).toMatch(/the restart command failed \(exit 3\): exit 3/);
    expect(await statuses(admin)).toEqual({ s1: 'DRAIN', s2: 'UP', s3: 'UP' });
    const res = await fetch(`http://127.0.0.1:${port}/instance.py`);
    expect(res.status).toBe(200);
    expect((await res.json()).instance).not.toBe('s1');
    // Run again, it takes up where it stopped: s1, drained, is restarted first.
    const again = await rollingRestart(['--admin', admin, '--backend', 'pypages', '--restart', 'exit 4']);
    expect(again.output).toMatch(/s1 .*idle; restarting: exit 4\n.*the restart command failed \(exit 4\)/);
    await haproxyCommand(admin, 'set server pypages/s1 state ready');
  });

  it('explains its usage when an option is missing', async () => {
    const usage = await rollingRestart(['--admin', admin]);
    expect(usage.code).toBe(2);
    expect(usage.output).toContain('usage: rolling-restart.mjs --admin SOCKET --backend NAME --restart COMMAND');
  });
});
