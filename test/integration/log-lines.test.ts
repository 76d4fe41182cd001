// What the logs of the real pypages command show, and what they cost: a
// client's text in an error cannot forge a line or drive the terminal, and a
// terminal that stops reading costs lines, never the service.
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AS_RUNNER_ARGS, FIXTURES, removeDir, stopChild, tempDir, waitFor } from '../helpers.js';

const CLI = new URL('../../dist/server/cli.js', import.meta.url).pathname;
const OWN_FIXTURES = new URL('../fixtures/logs/', import.meta.url).pathname;

let proc: ChildProcess | null = null;
let root: string | undefined;
afterEach(async () => {
  proc?.stdin?.end(); // on_terminal.py stops its command at the end of its stdin
  await stopChild(proc, 10_000);
  proc = null;
  removeDir(root);
  root = undefined;
});

interface Started {
  port: number;
  stdout: () => string;
  stderr: () => string;
}

/** Runs `argv` (the pypages command, maybe under on_terminal.py) on a copy of the fixtures; resolves once it serves. */
async function start(argv: string[]): Promise<Started> {
  root = tempDir('pypages-logs-');
  cpSync(FIXTURES, root, { recursive: true });
  copyFileSync(join(OWN_FIXTURES, 'user_lookup.py'), join(root, 'user_lookup.py'));
  proc = spawn(argv[0], [...argv.slice(1), CLI, root, '--port', '0', ...AS_RUNNER_ARGS], {
    stdio: ['pipe', 'pipe', 'pipe'],
    cwd: root,
  });
  let [out, err] = ['', ''];
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (err += d));
  const url = await waitFor(() => /serving \S+ at (http:\/\/\S+\/)/.exec(out)?.[1], 'the URL', 30_000);
  return { port: Number(new URL(url).port), stdout: () => out, stderr: () => err };
}

describe('the error log', () => {
  it("keeps a client's text in an error from forging lines or driving the terminal", async () => {
    const s = await start([process.execPath]);
    const forged = '%0A[2026-01-01T00:00:00.000Z] [info] configuration reloaded%0Apypages: server died%1B[2J%C2%9B31m';
    const res = await fetch(`http://127.0.0.1:${s.port}/user_lookup.py?name=x${forged}`);
    expect(res.status).toBe(500);
    await waitFor(() => s.stderr().includes('raise ValueError'), 'the traceback', 15_000);
    const entry = s.stderr().slice(s.stderr().indexOf('[error] request'));
    const lines = entry.split('\n').filter((l) => l !== '');
    expect(lines[0]).toMatch(/^\[error\] request \S+: GET \/user_lookup\.py\?name=.*ValueError: no such user: x$/);
    for (const line of lines.slice(1)) expect(line).toMatch(/^ {2}\| /); // every line of the entry after its first
    expect(entry).toContain('  | [2026-01-01T00:00:00.000Z] [info] configuration reloaded');
    expect(entry).toContain('  | pypages: server died\\x1b[2J\\x9b31m');
    expect(entry).toContain('  |   File "'); // the traceback reads as a traceback
    expect(entry.includes('\u001b') || entry.includes('\u009b')).toBe(false); // no ESC, no CSI
  });
});

describe('a terminal that stops reading', () => {
  it('costs lines, counted, not the service, nor a restart', async () => {
    const s = await start(['python3', join(OWN_FIXTURES, 'on_terminal.py'), process.execPath]);
    proc!.stdin!.write('pause\n');
    await waitFor(() => s.stdout().includes('on_terminal: paused'), 'the terminal to stop reading');
    const paused = Date.now();
    // 800 access lines of 12 KiB: more than the terminal takes and the 8 MiB a log stream may hold;
    // error lines on stderr too, and longer than the supervisor's heartbeat (10 s).
    const long = `/style.css?${'x'.repeat(12 * 1024)}`;
    for (let i = 0; i < 800 || Date.now() - paused < 12_000; i++) {
      const path = i % 10 === 0 ? '/raises.py' : long;
      const res = await fetch(`http://127.0.0.1:${s.port}${path}`, { signal: AbortSignal.timeout(15_000) });
      expect(res.status).toBe(path === long ? 200 : 500);
      await res.arrayBuffer();
    }
    proc!.stdin!.write('resume\n');
    const dropped = await waitFor(
      () => /(\d+) log line\(s\) were dropped from stdout/.exec(s.stdout())?.[1],
      'the count of dropped lines',
      30_000,
    );
    expect(Number(dropped)).toBeGreaterThan(0);
    await fetch(`http://127.0.0.1:${s.port}/hello.py?after`);
    // Its access line, in whichever format: on a loopback address development mode's short (and coloured) one.
    await waitFor(() => s.stdout().includes('GET /hello.py?after'), 'the access log to go on', 30_000);
    expect(s.stdout()).not.toMatch(/event loop is stuck|died unexpectedly|server restarted/);
  });
});
