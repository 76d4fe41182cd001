// Virtualenvs: where their interpreter is, and the nearest .venv above a script.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nearestVenv, pythonOfSpec, venvPython, VENV_PYTHONS } from '../../../lib/groups/venv.js';
import { removeDir, tempDir } from '../../helpers.js';

const base = tempDir('pypages-venv-');
afterAll(() => removeDir(base));

function venv(folder: string, python = 'bin/python3'): string {
  mkdirSync(join(folder, python, '..'), { recursive: true });
  writeFileSync(join(folder, python), '');
  return join(folder, python);
}

describe('venvPython', () => {
  it('finds bin/python3, then bin/python, then Scripts/python.exe', () => {
    expect(VENV_PYTHONS).toEqual(['bin/python3', 'bin/python', 'Scripts/python.exe']);
    expect(venvPython(join(base, 'none'))).toBeNull();
    const both = join(base, 'both');
    venv(both, 'bin/python');
    const python3 = venv(both, 'bin/python3');
    expect(venvPython(both)).toBe(python3);
    expect(venvPython(join(base, 'win'), (f) => f.endsWith('python.exe'))).toBe(
      join(base, 'win', 'Scripts', 'python.exe'),
    );
  });

  it('turns a virtualenv folder into its interpreter, and leaves anything else as given', () => {
    const folder = join(base, 'env1');
    const python = venv(folder);
    expect(pythonOfSpec(folder)).toBe(python);
    expect(pythonOfSpec('python3')).toBe('python3');
    expect(pythonOfSpec('/usr/bin/python3')).toBe('/usr/bin/python3');
  });
});

describe('nearestVenv', () => {
  const root = join(base, 'root');
  const deep = join(root, 'a', 'b');
  mkdirSync(deep, { recursive: true });

  it('finds none when no folder up to the root has one, and never looks above the root', () => {
    venv(join(base, '.venv')); // above the root: not the site's
    expect(nearestVenv(deep, root)).toBeNull();
  });

  it('finds the nearest .venv at or above the folder, up to and including the root', () => {
    const atRoot = venv(join(root, '.venv'));
    expect(nearestVenv(deep, root)).toBe(atRoot);
    const inA = venv(join(root, 'a', '.venv'), 'bin/python');
    expect(nearestVenv(deep, root)).toBe(inA);
    expect(nearestVenv(root, root)).toBe(atRoot);
  });
});
