// The pypages command as a user runs it: the compiled CLI in a child process.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { AS_RUNNER_ARGS, FIXTURES, removeDir, stopChild, tempDir } from '../helpers.js';

const CLI = new URL('../../dist/server/cli.js', import.meta.url).pathname;
const run = promisify(execFile);

// What a test made, removed after it whether it passed or failed.
let dirs: string[] = [];
let child: ChildProcess | null = null;
afterEach(async () => {
  await stopChild(child);
  child = null;
  for (const dir of dirs) removeDir(dir);
  dirs = [];
});

/** A temp folder that afterEach removes. */
function scratch(): string {
  const dir = tempDir('pypages-cli-');
  dirs.push(dir);
  return dir;
}

async function fails(args: string[], cwd = tmpdir()): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, [CLI, ...args], { cwd, timeout: 20_000 });
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
  throw new Error(`pypages ${args.join(' ')} should have failed`);
}

describe('pypages CLI', () => {
  it('--help lists every setting', async () => {
    const { stdout } = await run(process.execPath, [CLI, '--help']);
    for (const flag of ['--port', '--host', '--config', '--python', '--debug', '--index', '--threads'])
      expect(stdout).toContain(flag);
  });

  it('exits 2 naming the file and the key for an unknown YAML key', async () => {
    const dir = scratch();
    writeFileSync(join(dir, 'pypages.yaml'), 'prot: 80\n');
    const { code, stderr } = await fails([FIXTURES], dir);
    expect(code).toBe(2);
    expect(stderr).toContain('pypages.yaml');
    expect(stderr).toContain('prot');
    expect(stderr).toContain('port');
  });

  it('exits 2 for a bad value, saying what is allowed', async () => {
    const { code, stderr } = await fails([FIXTURES, '--port', 'eighty']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/port.*0.*65535/);
  });

  it('exits 3 at startup when Python is missing, saying how to fix it', async () => {
    const { code, stderr } = await fails([FIXTURES, '--python', '/nonexistent/python3']);
    expect(code).toBe(3);
    expect(stderr).toContain('--python');
  });

  it('exits 3 at startup when Python is too old', async () => {
    const dir = scratch();
    const fake = join(dir, 'python');
    writeFileSync(fake, '#!/bin/sh\necho 2.7.18\necho /usr/bin/python2.7\n');
    chmodSync(fake, 0o755);
    const { code, stderr } = await fails([FIXTURES, '--python', fake]);
    expect(code).toBe(3);
    expect(stderr).toContain('2.7');
  });

  it('exits 4 when the port is taken', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer().listen(0, '127.0.0.1');
    let result: { code: number; stderr: string };
    try {
      await new Promise((r) => blocker.once('listening', r));
      const port = (blocker.address() as { port: number }).port;
      result = await fails([FIXTURES, '--port', String(port)]);
    } finally {
      blocker.close();
    }
    const { code, stderr } = result;
    expect(code).toBe(4);
    expect(stderr).toContain('--port');
  });

  it('exits 4 for an address that is not one', async () => {
    const { code, stderr } = await fails([FIXTURES, '--host', '999.1.1.1']);
    expect(code).toBe(4);
    expect(stderr).toContain('--host');
    expect(stderr).not.toContain('    at '); // a message, not a stack trace
  });

  it('serves a folder, prints its URL, and exits 0 on SIGTERM', async () => {
    const cli = spawn(process.execPath, [CLI, FIXTURES, '--port', '0', ...AS_RUNNER_ARGS], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = cli;
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      cli.stdout.on('data', (d) => {
        out += d;
        const m = /serving .* at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) resolve(m[1]);
      });
      cli.once('exit', (code) => reject(new Error(`exited early with ${code}: ${out}`)));
    });
    expect(await (await fetch(new URL('hello.py', url))).text()).toBe('Hello, World!');
    const exited = new Promise((r) => cli.once('exit', r));
    cli.kill('SIGTERM');
    expect(await exited).toBe(0);
    // The access log, on stdout: on loopback, development mode's short line (README "Development mode").
    expect(out).toMatch(/^\d\d:\d\d:\d\d 200 GET \/hello\.py \d+ ms$/m);
  });
});
