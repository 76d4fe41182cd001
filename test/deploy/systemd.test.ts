// deploy/systemd's units. No systemd runs here, so systemd-analyze checks
// them offline (verify, and security's exposure score), and their contract
// with pypages is played out without systemd: ExecStart's command line (the
// template's, its instance's port winning over pypages.yaml's)
// serves, ExecReload's signal reloads, and KillSignal sent to the main
// process alone (KillMode=mixed) stops pypages gracefully well within
// TimeoutStopSec, answering the request in flight and leaving no process.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pythonDescendants, removeDir, stopChild, tempDir, waitFor } from '../helpers.js';
import { DEPLOY, FIXTURES, freePort } from './harness.js';

const CLI = new URL('../../dist/server/cli.js', import.meta.url).pathname;
const BINARY = '/usr/local/bin/pypages';
const UNITS = ['pypages.service', 'pypages@.service'];

/** The unit's [Service] settings, one array of values per key (in file order). */
function service(unit: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  let section = '';
  for (const line of readFileSync(join(DEPLOY, 'systemd', unit), 'utf8').split('\n')) {
    if (/^\[.*\]$/.test(line)) section = line;
    const m = /^(\w+)=(.*)$/.exec(line);
    if (section === '[Service]' && m) settings.set(m[1], [...(settings.get(m[1]) ?? []), m[2]]);
  }
  return settings;
}

/** True once a process has ended (gone from /proc, or a zombie waiting to be reaped). */
function gone(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1].startsWith('Z');
  } catch {
    return true;
  }
}

const one = (unit: string, key: string) => service(unit).get(key)?.[0] ?? '';

interface Analyzed {
  code: number;
  output: string;
}

async function analyze(args: string[]): Promise<Analyzed> {
  try {
    const { stdout, stderr } = await promisify(execFile)('systemd-analyze', args, { encoding: 'utf8' });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

describe('the systemd units, checked offline by systemd-analyze', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('pypages-deploy-systemd-');
    // verify checks that ExecStart's program exists: a stub stands in for the installed pypages.
    writeFileSync(join(dir, 'pypages'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  });
  afterAll(() => removeDir(dir));

  /** The unit with ExecStart's program replaced by the stub, saved as `name` in the test's folder. */
  function staged(unit: string, name: string, edit = (text: string) => text): string {
    const text = readFileSync(join(DEPLOY, 'systemd', unit), 'utf8').replaceAll(BINARY, join(dir, 'pypages'));
    writeFileSync(join(dir, name), edit(text));
    return join(dir, name);
  }

  it.each([
    ['pypages.service', 'pypages.service'],
    ['pypages@.service', 'pypages@8001.service'],
  ])('%s passes systemd-analyze verify with nothing to say', async (unit, name) => {
    const result = await analyze(['verify', '--man=no', staged(unit, name)]);
    expect(result).toEqual({ code: 0, output: '' });
  });

  it('and verify does speak up, offline, about a misspelt setting', async () => {
    const result = await analyze([
      'verify',
      '--man=no',
      staged('pypages.service', 'typo.service', (t) => t.replace(/^KillMode=/m, 'KilMode=')),
    ]);
    expect(result.output).toMatch(/Unknown key 'KilMode' in section \[Service\]/);
  });

  it.each(UNITS)('%s is rated OK by systemd-analyze security (exposure under 2.5 of 10)', async (unit) => {
    const name = unit.replace('@.', '@8001.');
    const result = await analyze(['security', '--offline=yes', staged(unit, name)]);
    const score = /Overall exposure level for \S+: ([\d.]+) (\w+)/.exec(result.output);
    expect(score, result.output).not.toBeNull();
    expect(Number(score![1])).toBeLessThan(2.5);
    expect(score![2]).toBe('OK');
  });

  it('the two units run pypages the same way, but for the port of each instance', () => {
    const [single, template] = UNITS.map(service);
    for (const key of ['ExecStart', 'SyslogIdentifier']) for (const s of [single, template]) s.delete(key);
    expect(template).toEqual(single);
    expect(one('pypages@.service', 'ExecStart')).toBe(`${one('pypages.service', 'ExecStart')} --port %i`);
  });
});

describe("the unit's signals, played out on pypages without systemd", () => {
  let dir: string;
  let proc: ChildProcess | undefined;
  let output = '';
  let port: number;
  beforeAll(async () => {
    dir = tempDir('pypages-deploy-unit-');
    copyFileSync(join(FIXTURES, 'instance.py'), join(dir, 'instance.py'));
    // The instance's port (%i) wins over the one in pypages.yaml, as every instance shares that file.
    const [yamlPort, instancePort] = [await freePort(), await freePort()];
    port = instancePort;
    writeFileSync(
      join(dir, 'pypages.yaml'),
      `root: .\nhost: 127.0.0.1\nport: ${yamlPort}\nstatus-path: /status\nallow-root-pages: true\n`,
    );
    // The template's ExecStart arguments, with the test's config file in place of /etc/pypages/pypages.yaml.
    const args = one('pypages@.service', 'ExecStart').split(' ').slice(1);
    const argv = args.map((a) =>
      a === '/etc/pypages/pypages.yaml' ? join(dir, 'pypages.yaml') : a.replace('%i', String(instancePort)),
    );
    proc = spawn(process.execPath, [CLI, ...argv], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (d) => (output += d));
    proc.stderr!.on('data', (d) => (output += d));
    await waitFor(
      () => output.includes(`pypages: serving ${dir} at http://127.0.0.1:${port}/`),
      'pypages to serve',
      30_000,
    );
  });
  afterAll(async () => {
    await stopChild(proc);
    removeDir(dir);
  });

  const status = async () => (await fetch(`http://127.0.0.1:${port}/status?json`)).json();

  it("ExecReload's signal re-reads the configuration", async () => {
    const reload = one('pypages.service', 'ExecReload').replace('$MAINPID', String(proc!.pid));
    await promisify(execFile)('/bin/sh', ['-c', reload]);
    await waitFor(() => output.includes('configuration reloaded'), 'the reload', 15_000);
  });

  it('KillSignal to the main process alone answers the request in flight, then exits 0 within TimeoutStopSec', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/instance.py`);
    expect(res.status).toBe(200);
    const workers = await pythonDescendants(proc!.pid);
    expect(workers.length).toBeGreaterThan(0);
    const inFlight = fetch(`http://127.0.0.1:${port}/instance.py?sleep=1.5`);
    await waitFor(async () => (await status()).totals.inflight === 1, 'the request to reach its worker');
    const started = Date.now();
    const exited = new Promise<number | null>((r) => proc!.once('exit', (code) => r(code)));
    proc!.kill(one('pypages.service', 'KillSignal') as NodeJS.Signals);
    expect((await inFlight).status).toBe(200);
    expect(await exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(Number(one('pypages.service', 'TimeoutStopSec')) * 1000);
    await waitFor(() => workers.every((w) => gone(w.pid)), 'the Python workers to end');
  });
});
