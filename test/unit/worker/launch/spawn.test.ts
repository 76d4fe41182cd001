// How a worker is started: its command line (the site's root, its group's
// threads and processes, paths, preloads) and its environment.
import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../../../../lib/util/log.js';
import { pythonPackageDir } from '../../../../lib/util/paths.js';
import { workerArgs, workerEnv, type LaunchOptions } from '../../../../lib/worker/launch/spawn.js';

const opts: LaunchOptions = {
  python: '/usr/bin/python3',
  root: '/srv/www',
  cwd: '/srv/www/blog',
  threads: 4,
  processes: 2,
  env: {},
  pythonPath: ['/opt/a', '/opt/b'],
  preload: ['/srv/www/app.py'],
  tag: 'app.py',
  log: memoryLogger(),
};

describe('workerArgs', () => {
  it('gives the root, threads, processes, then each python-path folder and preload script', () => {
    expect(workerArgs(opts)).toEqual([
      '--root',
      '/srv/www',
      '--threads',
      '4',
      '--processes',
      '2',
      '--python-path',
      '/opt/a',
      '--python-path',
      '/opt/b',
      '--preload',
      '/srv/www/app.py',
    ]);
  });
});

describe('workerEnv', () => {
  it("adds the group's variables, puts the worker package first on PYTHONPATH, and writes no bytecode", () => {
    const env = workerEnv({ APP_MODE: 'demo' });
    expect(env.APP_MODE).toBe('demo');
    expect(env.PYTHONPATH?.split(':')[0]).toBe(pythonPackageDir);
    expect(env).toMatchObject({ PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' });
  });
});
