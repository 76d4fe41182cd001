// deploy/logrotate/pypages, run by logrotate on log files in a temp folder:
// every *.log file is rotated, and the reopen command runs once for all of
// them (sharedscripts), after the files were moved aside.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, tempDir } from '../helpers.js';
import { render } from './harness.js';

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
