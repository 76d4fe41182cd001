// Development mode's answer for a folder with no index: a listing of what a
// visitor could open there. Each entry is kept only if the resolver would
// serve its URL (lib/http/resolve.ts decides: dotfiles, __pycache__, packages,
// artefacts and every deny rule are left out because their URLs are 404s, so
// a new rule applies here as soon as it exists), and virtualenvs are left out
// too. Scripts are told apart by Python's own test (./survey.ts): pages with
// their docstring's first line, and Python that is not a page, named as such
// (never its source).

import { type Dirent, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Target } from '../resolve.js';
import type { ScriptFacts } from './survey.js';

/** Entries looked at in one folder, at most: a listing of a huge folder stays a page. */
export const MAX_ENTRIES = 1000;

export interface ListedEntry {
  name: string;
  /** Relative link, percent-encoded ('sub/' for a folder). */
  href: string;
  kind: 'script' | 'file' | 'folder';
  facts?: ScriptFacts;
}

export interface Listing {
  entries: ListedEntry[];
  /** Entries not looked at beyond MAX_ENTRIES. */
  more: number;
}

/**
 * What the folder `folder` (real path) at `urlPath` (raw, ending in "/")
 * lists: every entry whose URL `lookup` resolves to something served.
 */
export function listFolder(folder: string, urlPath: string, lookup: (urlPath: string) => Target): Listing {
  const all = readdirSync(folder, { withFileTypes: true })
    .filter((d) => !d.name.startsWith('.'))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const entries: ListedEntry[] = [];
  for (const dirent of all.slice(0, MAX_ENTRIES)) {
    const entry = listed(folder, urlPath, dirent, lookup);
    if (entry) entries.push(entry);
  }
  return { entries, more: Math.max(0, all.length - MAX_ENTRIES) };
}

function listed(
  folder: string,
  urlPath: string,
  dirent: Dirent,
  lookup: (urlPath: string) => Target,
): ListedEntry | null {
  const { name } = dirent;
  const href = encodeURIComponent(name);
  const full = path.join(folder, name);
  if (isFolder(dirent, full)) {
    if (isVenv(full)) return null;
    const target = lookup(`${urlPath}${href}/`);
    // A folder with no index is listed in its turn; any other 404 (a package, a denied folder) is not served.
    const served = target.kind !== 'not-found' || target.folder !== undefined;
    return served ? { name, href: `${href}/`, kind: 'folder' } : null;
  }
  const target = lookup(`${urlPath}${href}`);
  if (target.kind === 'script') return { name, href, kind: 'script' };
  if (target.kind === 'static') return { name, href, kind: 'file' };
  return null;
}

function isFolder(dirent: Dirent, full: string): boolean {
  if (dirent.isDirectory()) return true;
  if (!dirent.isSymbolicLink()) return false;
  try {
    return statSync(full).isDirectory();
  } catch {
    return false;
  }
}

/** True when `folder` or a folder above it, up to `root`, is a virtualenv: never listed. */
export function inVenv(root: string, folder: string): boolean {
  for (let dir = folder; dir.startsWith(root) && dir.length > root.length; dir = path.dirname(dir))
    if (isVenv(dir)) return true;
  return false;
}

/** A virtualenv (a folder holding pyvenv.cfg, whatever its name) is tooling, never part of the site. */
function isVenv(folder: string): boolean {
  try {
    return statSync(path.join(folder, 'pyvenv.cfg')).isFile();
  } catch {
    return false;
  }
}

/** The script entries' real paths, as `lookup` resolved them, for the survey. */
export function scriptFiles(
  listing: Listing,
  urlPath: string,
  lookup: (urlPath: string) => Target,
): Map<string, ListedEntry> {
  const files = new Map<string, ListedEntry>();
  for (const entry of listing.entries) {
    if (entry.kind !== 'script') continue;
    const target = lookup(`${urlPath}${entry.href}`);
    if (target.kind === 'script') files.set(target.file, entry);
  }
  return files;
}
