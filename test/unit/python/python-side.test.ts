// The Python side's own unit tests (test/python, unittest) run as part of
// `npm test`, with the interpreter pypages would pick by default. They live
// outside lib/python so that the published package does not ship them.
import { execFile } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { findInterpreter } from '../../../lib/groups/interpreter.js';
import { packageRoot, pythonPackageDir } from '../../../lib/util/paths.js';
import { BODY_WINDOW, HEADER_SIZE, MAX_PAYLOAD, PROTOCOL_VERSION } from '../../../lib/worker/protocol.js';

it('passes the Python unittest suite (protocol, loader, wsgi, main)', async () => {
  const python = await findInterpreter('');
  const tests = join(packageRoot, 'test', 'python');
  const PYTHONPATH = [pythonPackageDir, process.env.PYTHONPATH].filter(Boolean).join(delimiter);
  const result = await promisify(execFile)(python.path, ['-m', 'unittest', 'discover', '-s', tests, '-t', tests], {
    cwd: tests,
    env: { ...process.env, PYTHONPATH },
    timeout: 120_000,
  })
    .then(({ stderr }) => ({ ok: true, stderr }))
    .catch((err: { stderr: string }) => ({ ok: false, stderr: err.stderr }));
  expect(result.ok, result.stderr).toBe(true);
  const ran = Number(/Ran (\d+) tests?/.exec(result.stderr)?.[1] ?? 0);
  expect(ran).toBeGreaterThan(20);
}, 150_000);

it('agrees with Node on the protocol constants both sides rely on', async () => {
  // Node reads a READ as "the page waits" only when it tops the credit up to exactly BODY_WINDOW.
  const python = await findInterpreter('');
  const script =
    'from pypages_worker import PROTOCOL_VERSION, protocol as p; print(PROTOCOL_VERSION, p.BODY_WINDOW, p.MAX_PAYLOAD, p.HEADER_SIZE)';
  const { stdout } = await promisify(execFile)(python.path, ['-c', script], { cwd: pythonPackageDir });
  expect(stdout.trim().split(' ').map(Number)).toEqual([PROTOCOL_VERSION, BODY_WINDOW, MAX_PAYLOAD, HEADER_SIZE]);
});
