// Installable as the README says: `npm pack` builds dist/ (the prepare
// script) and makes a tarball with the compiled server, the Python worker and
// the demo, and no sources or tests; `npm install -g` of that tarball into a
// temporary prefix gives a `pypages` command that serves a page. The
// tarball's dependencies come from npm's cache when it has them
// (--prefer-offline), else from the registry.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { AS_RUNNER_ARGS, removeDir, stopChild, tempDir, waitFor } from '../helpers.js';

const run = promisify(execFile);
const REPO = new URL('../../', import.meta.url).pathname;
const QUIET = ['--no-audit', '--no-fund', '--loglevel=error'];

describe('npm pack, then npm install -g of the tarball', () => {
  const dir = tempDir('pypages-install-');
  let child: ChildProcess | undefined;
  afterAll(async () => {
    await stopChild(child);
    removeDir(dir);
  });

  it('gives a pypages command that serves a page', { timeout: 240_000 }, async () => {
    await run('npm', ['pack', '--pack-destination', dir, ...QUIET], { cwd: REPO, maxBuffer: 16 << 20 });
    const tarball = readdirSync(dir).find((f) => /^pypages-.*\.tgz$/.test(f));
    expect(tarball).toBeDefined();
    const { stdout: listing } = await run('tar', ['tzf', join(dir, tarball!)], { maxBuffer: 16 << 20 });
    const files = listing.split('\n');
    for (const f of [
      'dist/server/cli.js',
      'lib/python/pypages_worker/__main__.py',
      'lib/python/pypages_worker/survey.py',
    ])
      expect(files).toContain(`package/${f}`);
    expect(files.filter((f) => /^package\/(test|bench)\/|\.ts$/.test(f))).toEqual([]);

    const prefix = join(dir, 'prefix');
    const env = { ...process.env, npm_config_prefix: prefix };
    await run('npm', ['install', '-g', join(dir, tarball!), '--prefer-offline', ...QUIET], { env, cwd: dir });

    const site = join(dir, 'site');
    mkdirSync(site);
    writeFileSync(
      join(site, 'hello.py'),
      'def application(environ, start_response):\n    start_response("200 OK", [("Content-Type", "text/plain")])\n    return [b"served from the tarball"]\n',
    );
    child = spawn(join(prefix, 'bin', 'pypages'), [site, '--port', '0', '--host', '127.0.0.1', ...AS_RUNNER_ARGS], {
      cwd: dir,
    });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const url = await waitFor(
      () => /serving \S+ at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)?.[1],
      'the banner',
      60_000,
    );
    const res = await fetch(new URL('hello.py', url));
    expect(await res.text()).toBe('served from the tarball');
  });
});
