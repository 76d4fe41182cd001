// Where a tenant's workers import pypages_worker from. They run as the
// tenant, so they must be able to read it: an install under a private folder
// (a clone in /root, mode 0700) cannot be read by them. Then a copy of the
// package (a few hundred KB) goes into a root-owned, world-readable temp
// folder, removed when the server exits. Pages running as the server's own
// user read it where it is.
import { accessSync, chmodSync, constants, cpSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pythonPackageDir } from '../util/paths.js';

let staged: string | null = null;

/** pythonPackageDir if every user can read it, else a readable copy (made once). */
export function tenantPackageDir(): string {
  if (staged) return staged;
  if (readableByAll(pythonPackageDir)) return (staged = pythonPackageDir);
  const dir = mkdtempSync(path.join(tmpdir(), 'pypages-python-'));
  cpSync(pythonPackageDir, dir, { recursive: true, filter: (src) => !src.includes('__pycache__') });
  chmodTree(dir);
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return (staged = dir);
}

/** Whether "others" may reach `dir` (x on every folder above) and read it. */
export function readableByAll(dir: string): boolean {
  try {
    accessSync(dir, constants.R_OK);
    for (let d = dir; ; d = path.dirname(d)) {
      const bits = d === dir ? 0o005 : 0o001;
      if ((statSync(d).mode & bits) !== bits) return false;
      if (path.dirname(d) === d) return true;
    }
  } catch {
    return false;
  }
}

function chmodTree(dir: string): void {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) chmodTree(full);
    else chmodSync(full, 0o644);
  }
}
