// The supervised server listens before its slow start (the Python probe, the
// runtime): a client that connects in that time, sends its request and
// half-closes is answered once the server is ready, never refused. Through
// the real command (as nobody when run as root, so the interpreter is probed
// at start), with a Python that takes 2 s to start (a wrapper that sleeps),
// so the window is wide enough to see; fails against the old order, where
// the port took no connection until the probe and the runtime were done.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rawExchange } from '../raw-client.js';
import { removeDir, stopChild, tempDir } from '../helpers.js';

const CLI = new URL('../../dist/server/cli.js', import.meta.url).pathname;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('a request in the first moments of a start', () => {
  let dir: string;
  let cli: ChildProcess | null = null;
  afterAll(async () => {
    await stopChild(cli);
    removeDir(dir);
  });

  it('is answered after the start, not refused while Python is probed', async () => {
    dir = tempDir('pypages-early-');
    chmodSync(dir, 0o777); // the wrapper, run as nobody, leaves its mark here
    const done = path.join(dir, 'probed');
    const python = path.join(dir, 'slow-python');
    writeFileSync(python, `#!/bin/sh\nsleep 2\ntouch ${done}\nexec /usr/bin/python3 "$@"\n`);
    chmodSync(python, 0o755);
    mkdirPages(dir);
    const port = await freePort();
    // As root the interpreter is checked later, by the launcher: run as nobody, it is probed at start.
    const asNobody = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
    const argv = [
      ...asNobody,
      process.execPath,
      CLI,
      path.join(dir, 'www'),
      '--port',
      String(port),
      '--python',
      python,
    ];
    cli = spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
    const started = Date.now();
    while (!(await accepts(port))) {
      expect(Date.now() - started).toBeLessThan(30_000);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(existsSync(done)).toBe(false); // the port took connections before the Python probe ended
    const reply = await rawExchange(port, 'GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n', {
      then: 'fin',
      waitMs: 30_000,
    });
    expect(reply.status).toBe(200);
    expect(reply.bytes.toString()).toMatch(/hello\n$/);
    expect(reply.closed).toBe(true);
  }, 60_000);
});

function mkdirPages(dir: string): void {
  const www = path.join(dir, 'www');
  mkdirSync(www);
  writeFileSync(path.join(www, 'hello.txt'), 'hello\n');
}
