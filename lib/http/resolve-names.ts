// The names lib/http/resolve.ts never serves or runs, whatever the site says:
// dotfiles, Python's artefacts and editor backups, and what a path segment
// may never hold. Kept apart from the walk so each reads on its own.
import type { Segment } from './url-path.js';

// Compiled Python and other artefacts that are never a page and never static.
// The .so patterns are CPython/PyPy extension modules (the Linux .pyd).
const PY_ARTEFACT = /\.(?:py[cowidz]|pyx|pxd|pxi)$|\.(?:cpython-[^.]*|abi3|pypy[^.]*)\.so$/i;
// Editor and patch leftovers of a script would send its source as a static file.
const PY_BACKUP = /\.py(?:~|\.(?:bak|backup|old|orig|save|swp|swo|tmp|rej|\d+))$/i;
const EMACS_AUTOSAVE = /^#.*#$/;

/** Rules that hold for every segment, including those that become PATH_INFO. */
export function deniedAnywhere(seg: Segment): string | null {
  // Apache AllowEncodedSlashes Off; '\' is a separator on Windows.
  if (seg.bytes.includes(0x2f) || seg.bytes.includes(0x5c)) return 'encoded slash or backslash';
  if (seg.latin1 === '.' || seg.latin1 === '..') return 'dot segment';
  return null;
}

/** Why a file or folder name may never be served or run, or null if it may. */
export function deniedName(name: string): string | null {
  if (name === '') return 'empty name';
  if (name.includes('/') || name.includes('\\')) return 'encoded slash or backslash';
  if (name.startsWith('.')) return 'dotfile';
  // Windows and some filesystems drop these, so 'hello.py.' could open hello.py.
  if (/[.\s]$/u.test(name)) return 'trailing dot or space';
  const lower = name.toLowerCase();
  if (lower === '__pycache__') return 'bytecode cache';
  if (lower === '__init__.py') return 'package marker';
  if (lower === 'pypages.yaml') return 'configuration file';
  // On a case-insensitive disk HELLO.PY is hello.py; it must never be static.
  if (lower.endsWith('.py') && !name.endsWith('.py')) return 'python name in another case';
  if (PY_ARTEFACT.test(name)) return 'python artefact';
  if (PY_BACKUP.test(name) || EMACS_AUTOSAVE.test(name)) return 'editor backup';
  return null;
}

export function isScriptName(name: string): boolean {
  return name.endsWith('.py');
}
