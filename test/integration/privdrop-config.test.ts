// Started as root, pypages takes the launcher's policy (allow-root-pages, the
// users) and the log files it hands to the server-user from its config, read
// again on SIGHUP, at each restart of the server child and whenever the child
// asks. A config, or the folder pypages.yaml is looked for in, that another
// user may write would let a compromised server child (www-data) write its
// own policy: pypages refuses to start so, and says what to do. Through the
// real command; skipped, saying why, when not root.
import { spawn } from 'node:child_process';
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, stopChild, tempDir } from '../helpers.js';
import { isRoot } from '../tenant-users.js';

const CLI = new URL('../../dist/server/cli.js', import.meta.url).pathname;

describe.skipIf(!isRoot)("started as root, the config must be root's alone (needs root: skipped otherwise)", () => {
  const dir = tempDir('pypages-privcfg-');
  afterAll(() => removeDir(dir));

  it('a working folder www-data may write (where pypages.yaml is looked for): exit 2, saying why', async () => {
    const cwd = path.join(dir, 'www');
    mkdirSync(cwd, { mode: 0o755 });
    writeFileSync(path.join(cwd, 'hello.txt'), 'hi\n');
    chownSync(cwd, 33, 33);
    const cli = spawn(process.execPath, [CLI, '.', '--port', '0', '--python', '/usr/bin/python3'], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    cli.stderr!.on('data', (d) => (err += d));
    const code = await Promise.race([
      new Promise((r) => cli.once('exit', r)),
      new Promise((r) => setTimeout(() => r('still running'), 15_000)),
    ]);
    await stopChild(cli);
    expect(code).toBe(2);
    expect(err).toContain(`the config ${path.join(cwd, 'pypages.yaml')} (or a folder it is looked for in, ${cwd})`);
    expect(err).toContain('can be changed by another user than root');
  }, 30_000);
});
