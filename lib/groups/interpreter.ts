// Finds the Python interpreter pages run with and checks it is Python 3.8+.
// Every failure is an InterpreterError whose message says what was tried and
// how to fix it (the server exits with code 3 on it; see lib/config/config.ts).
import { execFile } from 'node:child_process';
import { accessSync, constants, lstatSync, statSync } from 'node:fs';
import path from 'node:path';
import { SETTINGS } from '../config/settings.js';
import { rootSide } from '../tenant/root-side.js';
import { VENV_PYTHONS, venvPython } from './venv.js';

export interface Interpreter {
  /** Absolute path to run: as given, or the virtualenv's bin/python, or the PATH command's sys.executable. */
  readonly path: string;
  /** "3.11.7" */
  readonly version: string;
}

export class InterpreterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InterpreterError';
  }
}

export const MIN_PYTHON: readonly [number, number] = [3, 8];
const MIN_TEXT = `${MIN_PYTHON[0]}.${MIN_PYTHON[1]}`;
const PROBE_TIMEOUT_MS = 10_000;
const AUTO_COMMANDS = ['python3', 'python'];
// Valid Python 2 and 3, so a too-old interpreter still reports its version.
export const PROBE_SCRIPT = 'import sys; print("%d.%d.%d" % tuple(sys.version_info[:3])); print(sys.executable)';

const FIX =
  `Install Python ${MIN_TEXT} or newer, or point pypages at one with ${SETTINGS.python.flag} /path/to/python3 ` +
  `(or a virtualenv folder), or "${SETTINGS.python.yaml}:" in pypages.yaml.`;

type Probe = { ok: true; version: string; executable: string } | { ok: false; reason: string };

/** Runs `file -c PROBE_SCRIPT`; never throws. A server that gave up root asks its launcher first (lib/tenant/root-side.ts). */
function probe(file: string): Promise<Probe> {
  return new Promise((resolve) => {
    const done = (err: Error | null, stdout: string, stderr: string) => {
      if (err)
        return resolve({
          ok: false,
          reason: failure(err as NodeJS.ErrnoException & { killed?: boolean }, String(stderr)),
        });
      const [version = '', executable = ''] = String(stdout).trim().split(/\r?\n/);
      if (!/^\d+\.\d+\.\d+$/.test(version.trim())) {
        return resolve({
          ok: false,
          reason: `it did not print a Python version (printed ${JSON.stringify(String(stdout).slice(0, 80))})`,
        });
      }
      resolve({ ok: true, version: version.trim(), executable: executable.trim() });
    };
    const here = () => execFile(file, ['-c', PROBE_SCRIPT], { timeout: PROBE_TIMEOUT_MS, windowsHide: true }, done);
    const side = rootSide();
    if (!side) return void here();
    void side.probe(file).then((r) => (r ? done(r.error, r.stdout, r.stderr) : here()));
  });
}

function failure(err: NodeJS.ErrnoException & { killed?: boolean }, stderr: string): string {
  if (err.code === 'ENOENT') return 'not found';
  if (err.code === 'EACCES') return 'not executable (permission denied)';
  if (err.killed) return `it did not answer within ${PROBE_TIMEOUT_MS / 1000} s`;
  const last = stderr.trim().split(/\r?\n/).pop();
  const detail = last ? `: ${last}` : '';
  return typeof err.code === 'number'
    ? `it exited with code ${err.code}${detail}`
    : `it could not be run (${err.code ?? err.message})${detail}`;
}

function tooOld(version: string): boolean {
  const [major, minor] = version.split('.').map(Number);
  return major < MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor < MIN_PYTHON[1]);
}

/** Absolute path of `command` on PATH, or null. */
function which(command: string): string | null {
  const exts = process.platform === 'win32' ? ['', ...(process.env.PATHEXT ?? '.EXE').split(';')] : [''];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    for (const ext of exts) {
      const file = path.resolve(dir, command + ext);
      try {
        if (statSync(file).isFile()) {
          accessSync(file, constants.X_OK);
          return file;
        }
      } catch {
        // not here
      }
    }
  }
  return null;
}

function exists(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

/** Probes one file; on failure, a reason that starts with the file's path. */
async function check(file: string): Promise<(Interpreter & { executable: string }) | string> {
  const result = await probe(file);
  if (!result.ok) return `${file}: ${result.reason}`;
  if (tooOld(result.version)) return `found Python ${result.version} at ${file}, need ${MIN_TEXT} or newer`;
  return { path: file, version: result.version, executable: result.executable };
}

/** A command looked up on PATH; path is its sys.executable (stable, skips shims such as pyenv's) when absolute. */
async function fromCommand(command: string): Promise<Interpreter | string> {
  const found = which(command);
  if (found === null) return `${command}: not found on PATH`;
  const result = await check(found);
  if (typeof result === 'string') return result;
  return { path: path.isAbsolute(result.executable) ? result.executable : found, version: result.version };
}

/** The path as given, not sys.executable: a virtualenv's python resolves outside the virtualenv. */
function strip(result: (Interpreter & { executable: string }) | string): Interpreter | string {
  return typeof result === 'string' ? result : { path: result.path, version: result.version };
}

async function fromVirtualenv(folder: string): Promise<Interpreter | string> {
  const found = venvPython(folder, exists);
  if (found === null) {
    return (
      `${folder} is a folder but not a virtualenv (it has no ${VENV_PYTHONS.join(', ')}); ` +
      `create one with: python3 -m venv ${folder}`
    );
  }
  return strip(await check(found));
}

/**
 * Finds and checks the interpreter for `spec` (Config.python): '' tries python3 then python on PATH;
 * a folder is a virtualenv; anything else is a path or a command. Throws InterpreterError.
 */
export async function findInterpreter(spec: string): Promise<Interpreter> {
  const isPath = path.isAbsolute(spec) || /[\\/]/.test(spec);
  let result: Interpreter | string;
  if (spec === '') {
    const reasons: string[] = [];
    for (const command of AUTO_COMMANDS) {
      const r = await fromCommand(command);
      if (typeof r !== 'string') return r;
      reasons.push(r);
    }
    const none = reasons.every((r) => r.endsWith('not found on PATH'));
    throw new InterpreterError(
      none
        ? `no Python 3 interpreter found (tried: ${AUTO_COMMANDS.join(', ')} on PATH). ${FIX}`
        : `no usable Python interpreter found (tried: ${reasons.join('; ')}). ${FIX}`,
    );
  } else if (!isPath) {
    result = await fromCommand(spec);
  } else {
    const full = path.resolve(spec);
    if (!exists(full)) result = `${full}: not found`;
    else if (statSync(full, { throwIfNoEntry: false })?.isDirectory()) result = await fromVirtualenv(full);
    else result = strip(await check(full));
  }
  if (typeof result === 'string') throw new InterpreterError(`${result}. ${FIX}`);
  return result;
}
