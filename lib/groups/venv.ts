// Virtualenvs, defined once: where a virtualenv folder keeps its interpreter,
// and the nearest .venv above a script. The interpreter check
// (./interpreter.ts) and the choice of a group's Python (./spec.ts) both ask
// here.

import { existsSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';

/** A virtualenv's interpreters, relative to its folder, in order of preference (Scripts\ is Windows' bin/). */
export const VENV_PYTHONS: readonly string[] = ['bin/python3', 'bin/python', 'Scripts/python.exe'];

/** The folder a script's own virtualenv has: auto-detected above the script (setting venv). */
export const VENV_FOLDER = '.venv';

/**
 * The interpreter of the virtualenv `folder`, or null when it holds none.
 * `exists` says what counts as there (the check that reports a broken
 * virtualenv also counts a dangling link, to say what is wrong with it).
 */
export function venvPython(folder: string, exists: (file: string) => boolean = existsSync): string | null {
  for (const name of VENV_PYTHONS) {
    const candidate = join(folder, name);
    if (exists(candidate)) return candidate;
  }
  return null;
}

/** A virtualenv folder → its interpreter; anything else (a command, an interpreter's path) as given. */
export function pythonOfSpec(spec: string): string {
  return venvPython(spec) ?? spec;
}

/** The interpreter of VENV_FOLDER in `from` or a folder above it, up to and including `root`; null if there is none. */
export function nearestVenv(from: string, root: string): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    const found = venvPython(join(dir, VENV_FOLDER));
    if (found) return found;
    if (dir === root || !dir.startsWith(root + sep) || dirname(dir) === dir) return null;
  }
}
