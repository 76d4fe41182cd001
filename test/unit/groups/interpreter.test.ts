import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findInterpreter, InterpreterError } from '../../../lib/groups/interpreter.js';

const FIX =
  'Install Python 3.8 or newer, or point pypages at one with --python /path/to/python3 (or a virtualenv folder), or "python:" in pypages.yaml.';
let tmp: string;

beforeAll(() => {
  tmp = realpathSync(mkdtempSync(path.join(tmpdir(), 'pypages-interp-')));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function script(rel: string, body: string, mode = 0o755): string {
  const file = path.join(tmp, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, mode);
  return file;
}

async function failure(spec: string): Promise<InterpreterError> {
  const err = await findInterpreter(spec).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InterpreterError);
  return err as InterpreterError;
}

async function withPath<T>(value: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.PATH;
  process.env.PATH = value;
  try {
    return await fn();
  } finally {
    process.env.PATH = saved;
  }
}

const python3Version = execFileSync('python3', ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'], {
  encoding: 'utf8',
}).trim();

describe('findInterpreter', () => {
  it('finds python3 on PATH by default, as an absolute runnable path', async () => {
    const found = await findInterpreter('');
    expect(found.version).toBe(python3Version);
    expect(path.isAbsolute(found.path)).toBe(true);
    expect(execFileSync(found.path, ['-c', 'print(42)'], { encoding: 'utf8' }).trim()).toBe('42');
  });

  it('accepts a command on PATH', async () => {
    const found = await findInterpreter('python3');
    expect(found.version).toBe(python3Version);
    expect(path.isAbsolute(found.path)).toBe(true);
  });

  it.runIf(existsSync('/usr/bin/python3'))('accepts an explicit path and returns it as given', async () => {
    const found = await findInterpreter('/usr/bin/python3');
    expect(found.path).toBe('/usr/bin/python3');
    expect(found.version).toMatch(/^3\.\d+\.\d+$/);
  });

  it("accepts a virtualenv folder and returns the virtualenv's python", async () => {
    const venv = path.join(tmp, 'venv');
    execFileSync('python3', ['-m', 'venv', '--without-pip', venv]);
    const found = await findInterpreter(venv);
    expect(found.path).toBe(path.join(venv, 'bin', 'python3'));
    expect(found.version).toBe(python3Version);
    const prefix = execFileSync(found.path, ['-c', 'import sys; print(sys.prefix)'], { encoding: 'utf8' }).trim();
    expect(realpathSync(prefix)).toBe(venv);
  });

  it('reports a nonexistent path with the fix', async () => {
    const missing = path.join(tmp, 'no/such/python3');
    const err = await failure(missing);
    expect(err.message).toBe(`${missing}: not found. ${FIX}`);
  });

  it('reports a command not on PATH', async () => {
    const err = await failure('pypages-no-such-python');
    expect(err.message).toBe(`pypages-no-such-python: not found on PATH. ${FIX}`);
  });

  it('reports a Python that is too old', async () => {
    const old = script('old/python', 'echo 2.7.18; echo /usr/bin/python2.7');
    const err = await failure(old);
    expect(err.message).toBe(`found Python 2.7.18 at ${old}, need 3.8 or newer. ${FIX}`);
  });

  it('reports a Python 3 older than 3.8', async () => {
    const old = script('old37/python3', 'echo 3.7.17; echo /x');
    expect((await failure(old)).message).toContain('found Python 3.7.17');
  });

  it('accepts exactly 3.8', async () => {
    const ok = script('ok38/python3', 'echo 3.8.0; echo /opt/python3.8');
    expect(await findInterpreter(ok)).toEqual({ path: ok, version: '3.8.0' });
  });

  it('reports an empty folder as not a virtualenv', async () => {
    const empty = path.join(tmp, 'empty');
    mkdirSync(empty);
    const err = await failure(empty);
    expect(err.message).toContain(`${empty} is a folder but not a virtualenv`);
    expect(err.message).toContain('bin/python3');
    expect(err.message).toContain(`python3 -m venv ${empty}`);
    expect(err.message).toContain(FIX);
  });

  it('reports a program that is not Python', async () => {
    const fails = script('bad/fails', 'echo boom >&2; exit 3');
    expect((await failure(fails)).message).toBe(`${fails}: it exited with code 3: boom. ${FIX}`);
    const chatty = script('bad/chatty', 'echo hello');
    expect((await failure(chatty)).message).toContain(`${chatty}: it did not print a Python version`);
  });

  it('reports a file that is not executable', async () => {
    const file = script('noexec/python3', 'echo 3.11.0', 0o644);
    expect((await failure(file)).message).toBe(`${file}: not executable (permission denied). ${FIX}`);
  });

  it('says what it tried when PATH has no Python', async () => {
    const err = await withPath(path.join(tmp, 'nothing-here'), () => failure(''));
    expect(err.message).toBe(`no Python 3 interpreter found (tried: python3, python on PATH). ${FIX}`);
  });

  it('falls back to python when python3 is missing, and reports every failure', async () => {
    const dir = path.join(tmp, 'pathdir');
    const old = script('pathdir/python3', 'echo 3.6.9; echo /usr/bin/python3.6');
    const err = await withPath(dir, () => failure(''));
    expect(err.message).toBe(
      `no usable Python interpreter found (tried: found Python 3.6.9 at ${old}, need 3.8 or newer; python: not found on PATH). ${FIX}`,
    );
    const good = script('pathdir/python', 'echo 3.12.1; echo /opt/py/bin/python3.12');
    expect(await withPath(dir, () => findInterpreter(''))).toEqual({
      path: '/opt/py/bin/python3.12',
      version: '3.12.1',
    });
    expect(good).toBe(path.join(dir, 'python'));
  });
});
