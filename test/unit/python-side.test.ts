// The Python side's own unit tests (lib/python/tests, unittest) run as part
// of `npm test`, with the interpreter pypages would pick by default.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { findInterpreter } from '../../lib/interpreter.js';
import { pythonPackageDir } from '../../lib/paths.js';

it('passes the Python unittest suite (protocol, loader, wsgi, main)', async () => {
  const python = await findInterpreter('');
  const result = await promisify(execFile)(python.path, ['-m', 'unittest', 'discover', '-s', 'tests', '-t', '.'], { cwd: pythonPackageDir, timeout: 120_000 })
    .then(({ stderr }) => ({ ok: true, stderr }))
    .catch((err: { stderr: string }) => ({ ok: false, stderr: err.stderr }));
  expect(result.ok, result.stderr).toBe(true);
  const ran = Number(/Ran (\d+) tests?/.exec(result.stderr)?.[1] ?? 0);
  expect(ran).toBeGreaterThan(20);
}, 150_000);
