// deploy/logrotate/pypages, run by logrotate on log files in a temp folder:
// every *.log file is rotated, and the reopen command runs once for all of
// them (sharedscripts), after the files were moved aside.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AS_RUNNER_ARGS, removeDir, stopChild, tempDir, waitFor } from '../helpers.js';
import { FIXTURES, freePort, render } from './harness.js';

const CLI = new URL('../../dist/server/cli.js', import.meta.url).pathname;

describe('the logrotate snippet', () => {
  let dir: string;
  beforeAll(() => (dir = tempDir('pypages-deploy-logrotate-')));
  afterAll(() => removeDir(dir));

  it('rotates every log file, then has the logs reopened once', () => {
    const logs = join(dir, 'log');
    mkdirSync(logs);
    for (const name of ['www-access.log', 'www-error.log']) writeFileSync(join(logs, name), `${name} line\n`);
    const group = execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();
    // In place of systemctl kill: a record of the files' state when the reopen signal would be sent.
    const reopen = `ls ${logs} >> ${join(dir, 'reopened')}`;
    const config = render('logrotate/pypages', {
      LOG_DIR: logs,
      USER: userInfo().username,
      GROUP: group,
      REOPEN: reopen,
    });
    writeFileSync(join(dir, 'pypages.logrotate'), config);
    execFileSync('logrotate', ['--force', '--state', join(dir, 'state'), join(dir, 'pypages.logrotate')]);
    for (const name of ['www-access.log', 'www-error.log']) {
      expect(readFileSync(join(logs, `${name}.1`), 'utf8')).toBe(`${name} line\n`);
      expect(existsSync(join(logs, name))).toBe(false); // pypages creates it anew when it reopens
    }
    expect(readFileSync(join(dir, 'reopened'), 'utf8').split('\n').filter(Boolean)).toEqual([
      'www-access.log.1',
      'www-error.log.1',
    ]);
  });
});

describe('the logrotate snippet with pypages writing its log files', () => {
  let dir: string;
  let proc: ChildProcess | undefined;
  let output = '';
  beforeAll(() => (dir = tempDir('pypages-deploy-reopen-')));
  afterAll(async () => {
    await stopChild(proc);
    removeDir(dir);
  });

  it('has pypages write to new files after the rotation, through SIGUSR1', async () => {
    const [root, logs] = [join(dir, 'www'), join(dir, 'log')];
    mkdirSync(root);
    mkdirSync(logs);
    copyFileSync(join(FIXTURES, 'instance.py'), join(root, 'instance.py'));
    const port = await freePort();
    const logArgs = ['--access-log', join(logs, 'access.log'), '--error-log', join(logs, 'error.log')];
    proc = spawn(
      process.execPath,
      [CLI, root, '--host', '127.0.0.1', '--port', String(port), ...AS_RUNNER_ARGS, ...logArgs],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    proc.stdout!.on('data', (d) => (output += d));
    proc.stderr!.on('data', (d) => (output += d));
    const get = async (path: string) => (await fetch(`http://127.0.0.1:${port}${path}`)).status;
    await waitFor(async () => (await get('/-/health').catch(() => 0)) === 200, 'pypages to serve', 30_000);
    expect(await get('/instance.py?before')).toBe(200);
    const access = join(logs, 'access.log');
    await waitFor(() => existsSync(access) && readFileSync(access, 'utf8').includes('?before'), 'the first line');
    const group = execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();
    const reopen = `kill -USR1 ${proc.pid}`;
    const config = render('logrotate/pypages', {
      LOG_DIR: logs,
      USER: userInfo().username,
      GROUP: group,
      REOPEN: reopen,
    });
    writeFileSync(join(dir, 'pypages.logrotate'), config);
    execFileSync('logrotate', ['--force', '--state', join(dir, 'state'), join(dir, 'pypages.logrotate')]);
    expect(readFileSync(`${access}.1`, 'utf8')).toContain('?before');
    await waitFor(() => existsSync(access), 'pypages to open a new access.log');
    expect(await get('/instance.py?after')).toBe(200);
    await waitFor(() => readFileSync(access, 'utf8').includes('?after'), 'the next line in the new file');
    expect(readFileSync(`${access}.1`, 'utf8')).not.toContain('?after');
    expect(output).not.toContain('Debugger listening'); // SIGUSR1 is pypages' own, not Node's inspector
  });
});
