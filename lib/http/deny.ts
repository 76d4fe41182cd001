// The deny rules that look at a path rather than at one name (names are
// ./resolve.ts's deniedName): the operator's deny: globs, and the built-in
// rule no setting removes, that a virtualenv (any folder holding pyvenv.cfg,
// whatever its name) is never served. pypages.yaml and .pypages.yaml are
// denied by name in ./resolve.ts. Every denial answers 404, like the others.
import path from 'node:path';
import { globToRegExp } from '../config/group-rules.js';
import { statOrNull } from './fs-probe.js';

/** What is denied whatever the settings say, for the README and --help. */
export const BUILT_IN_DENIALS = Object.freeze([
  'pypages.yaml and .pypages.yaml, in any folder',
  'every virtualenv: a folder holding pyvenv.cfg, whatever its name, and all below it',
]);

/**
 * The operator's deny globs, compiled. A glob without "/" is tested against
 * every name on the path (`*.db`, `secrets.*`, `node_modules`); one with "/"
 * against the path from the document root (`/data/**`; a leading "/" is
 * optional). Case-insensitive, so `APP.DB` is denied too on any disk.
 */
export interface DenyRules {
  readonly globs: readonly string[];
  readonly names: readonly RegExp[];
  readonly paths: readonly RegExp[];
}

/** The rules of `globs` (empty: nothing denied but the built-in rules). */
export function denyRules(globs: readonly string[]): DenyRules {
  const compile = (g: string) => new RegExp(globToRegExp(g).source, 'i');
  return Object.freeze({
    globs: Object.freeze([...globs]),
    names: Object.freeze(globs.filter((g) => !g.includes('/')).map(compile)),
    paths: Object.freeze(globs.filter((g) => g.includes('/')).map(compile)),
  });
}

export const NO_DENY_RULES = denyRules([]);

/** What a folder's .pypages.yaml changes for URL resolution, from that folder down. */
export interface FolderRules {
  readonly index: readonly string[];
  readonly deny: DenyRules;
}

/**
 * Why the real path `parts` (its names from `root` down) is denied by
 * `rules` or lies in a virtualenv; null if it is not. Every folder on the
 * way is checked, so nothing below a denied folder is served. `venvs`
 * remembers which folders are virtualenvs for one resolve call.
 */
export function deniedPath(
  root: string,
  parts: readonly string[],
  isDir: boolean,
  rules: DenyRules,
  venvs: Map<string, boolean>,
): string | null {
  for (let n = 1; n <= parts.length; n++) {
    const rel = parts.slice(0, n).join('/');
    if (rules.names.some((r) => r.test(parts[n - 1])) || rules.paths.some((r) => r.test(rel)))
      return `denied by deny: ${JSON.stringify(rel)}`;
    if ((n < parts.length || isDir) && isVenv(path.join(root, ...parts.slice(0, n)), venvs)) return 'virtualenv';
  }
  return null;
}

function isVenv(folder: string, venvs: Map<string, boolean>): boolean {
  let known = venvs.get(folder);
  if (known === undefined) {
    known = statOrNull(path.join(folder, 'pyvenv.cfg')) !== null;
    venvs.set(folder, known);
  }
  return known;
}
