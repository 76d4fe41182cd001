// The pypages command in development mode, as a student runs it: refused on
// a public address, the banner (Python, config, the pages found), and what
// Ctrl-C says while a request is in flight.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { AS_RUNNER_ARGS, stopChild, waitFor } from '../helpers.js';

const CLI = new URL('../../dist/server/cli.js', import.meta.url).pathname;
const DEV = new URL('../fixtures/dev/', import.meta.url).pathname;

let child: ChildProcess | null = null;
afterEach(async () => {
  await stopChild(child);
  child = null;
});

describe('pypages in development mode', () => {
  it('refuses --dev on a public address, saying how to go on', async () => {
    const failed = await promisify(execFile)(process.execPath, [CLI, DEV, '--dev', '--host', '0.0.0.0'], {
      timeout: 20_000,
    }).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 2 });
    expect((failed as { stderr: string }).stderr).toContain('--allow-remote-dev');
  });

  it('names the Python, the config and the pages, and says what Ctrl-C waits for', async () => {
    const cli = spawn(process.execPath, [CLI, DEV, '--port', '0', ...AS_RUNNER_ARGS], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = cli;
    let [out, err] = ['', ''];
    cli.stdout.on('data', (d) => (out += d));
    cli.stderr.on('data', (d) => (err += d));
    const url = await waitFor(() => /serving \S+ at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1], 'the URL', 30_000);
    await waitFor(() => err.includes('pages found'), 'the pages', 10_000);
    expect(err).toMatch(/pypages: Python 3\.\d+\.\d+ \(\/\S+\); config: none/);
    expect(err).toContain('development mode');
    expect(err).toContain(`  ${url}boom.py`);
    const slow = fetch(new URL('slow.py', url)).catch(() => null); // in flight when the signal comes
    await waitFor(() => /\[out\] \[slow\.py pid \d+\] sleeping/.test(err), 'the page to run', 20_000);
    const exited = new Promise((r) => cli.once('exit', r));
    cli.kill('SIGINT');
    await waitFor(
      () => /finishing 1 request \(up to 3 s\); press Ctrl-C again to stop now/.test(err),
      'the note',
      10_000,
    );
    expect(await exited).toBe(0);
    await slow;
  });
});
