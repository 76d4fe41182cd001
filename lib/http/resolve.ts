// URL path → what to serve. Every URL-to-file rule and every deny rule of
// pypages lives in this file and nowhere else, so it can be tested without a
// server (the decoding of a path's bytes, and its 400s, are ./url-path.ts;
// the names never served, ./resolve-names.ts; whose symlinks count under
// symlinks: owner-match, lib/tenant/symlinks.ts). Nothing here opens or runs
// a file; it only looks at names and stats.
import type { Stats } from 'node:fs';
import path from 'node:path';
import {
  decodePiece,
  encodeBytes,
  encodeText,
  joinLatin1,
  joinNames,
  SAFE_PATH,
  SAFE_QUERY,
  toSegment,
  type Segment,
} from './url-path.js';
import { linksFollowed, ownerMismatch, type OwnerMatch } from '../tenant/symlinks.js';
import { deniedPath, NO_DENY_RULES, type DenyRules, type FolderRules } from './deny.js';
import { realpathOrNull, relativeInside, statOrNull } from './fs-probe.js';
import { deniedAnywhere, deniedName, isScriptName } from './resolve-names.js';

export type Target =
  | { kind: 'script'; file: string; scriptName: string; pathInfo: string }
  | { kind: 'static'; file: string; urlPath: string }
  | { kind: 'redirect'; location: string }
  // folder: a folder with no index, real path. confined: refused by symlinks: owner-match, logged as an error.
  | { kind: 'not-found'; reason: string; folder?: string; confined?: true }
  | { kind: 'misconfigured'; reason: string }
  | { kind: 'bad-request'; reason: string };

export interface ResolveOptions {
  /** Names tried, in order, when a folder URL is requested. */
  index: readonly string[];
  /** The deny: globs of the site (./deny.ts); the built-in denials hold without them. */
  deny?: DenyRules;
  /** A folder's own index and deny from there down (its .pypages.yaml), or why they are broken (500). */
  folder?: (realDir: string) => FolderRules | string | undefined;
  /** symlinks: owner-match (lib/tenant/symlinks.ts); absent: any link inside the root is followed. */
  ownerMatch?: OwnerMatch;
}

/** The names that serve a folder URL unless the site says otherwise (the index setting's default). */
export const DEFAULT_INDEX: readonly string[] = Object.freeze(['index.py', 'index.html']);

interface ParsedPath {
  segs: Segment[];
  /** The raw path ends in '/' (after at least one segment). */
  trailing: boolean;
}

/** State shared by the lookups of one resolve call. */
interface Lookup {
  root: string;
  index: readonly string[];
  deny: DenyRules;
  folder: ResolveOptions['folder'];
  ownerMatch: OwnerMatch | undefined;
  /** Folder real path → "is an unindexed package" / "is a virtualenv", so each is stat'ed once per call. */
  packages: Map<string, boolean>;
  venvs: Map<string, boolean>;
}

/** A file or folder that exists, is inside the root and passed every deny rule. */
interface Entry {
  real: string;
  stats: Stats;
}

/** Refused by owner-match: a not-found that is logged as an error. */
type Confined = { confined: string };

/**
 * Maps a request path under `root` to what to serve. Owns every URL→file and
 * deny rule; the Python worker alone decides whether a `script` is a page.
 * `root` must be absolute and already realpath'd. `rawPath` is the path as
 * received (percent-encoded, latin-1 characters standing for bytes); `rawQuery`
 * is only carried into redirects. Never throws: anything unexpected, including
 * any fs error, is `not-found`. `script.file` and `static.file` are real paths
 * (symlinks resolved) inside `root`, the files that were actually checked.
 */
export function resolve(
  root: string,
  rawPath: string,
  rawQuery: string,
  opts: ResolveOptions = { index: DEFAULT_INDEX },
): Target {
  try {
    const parsed = parsePath(rawPath);
    if ('kind' in parsed) return parsed;
    const deny = opts.deny ?? NO_DENY_RULES;
    const lookup: Lookup = {
      root,
      index: opts.index,
      deny,
      folder: opts.folder,
      ownerMatch: opts.ownerMatch,
      packages: new Map(),
      venvs: new Map(),
    };
    return walk(lookup, parsed, rawQuery);
  } catch (err) {
    // Fail closed: a bug or an odd fs state must never serve a file.
    return notFound(`internal: ${String(err)}`);
  }
}

// ---------------------------------------------------------------- parsing

/** Splits and decodes the raw path; rejects what no file or PATH_INFO may hold. */
function parsePath(rawPath: string): ParsedPath | Target {
  if (!rawPath.startsWith('/')) return badRequest('path is not /-rooted');
  const pieces = rawPath.split('/').slice(1);
  const segs: Segment[] = [];
  for (const piece of pieces) {
    const bytes = decodePiece(piece);
    if (typeof bytes === 'string') return badRequest(bytes);
    // Empty pieces are repeated slashes: merged, as Apache's MergeSlashes does.
    if (bytes.length > 0) segs.push(toSegment(bytes));
  }
  // Bad requests are reported before any not-found, wherever they occur.
  for (const seg of segs) {
    const why = deniedAnywhere(seg);
    if (why) return notFound(why);
  }
  return { segs, trailing: segs.length > 0 && rawPath.endsWith('/') };
}

// ---------------------------------------------------------------- lookup

/** Descends folder by folder until a file is hit or the segments run out. */
function walk(lookup: Lookup, parsed: ParsedPath, rawQuery: string): Target {
  const { segs, trailing } = parsed;
  let dir = lookup.root;
  const broken = enterFolder(lookup, dir);
  if (broken) return broken;
  for (let i = 0; i < segs.length; i++) {
    const name = segs[i].name;
    if (name === null) return notFound('name is not utf-8');
    const why = deniedName(name);
    if (why) return notFound(`${why}: ${JSON.stringify(name)}`);
    const entry = enter(lookup, dir, name);
    if (typeof entry === 'string') return notFound(`${entry}: ${JSON.stringify(name)}`);
    if ('confined' in entry) return confined(entry);
    if (entry.stats.isDirectory()) {
      dir = entry.real;
      const broken = enterFolder(lookup, dir);
      if (broken) return broken;
      continue;
    }
    return fileTarget(entry, segs, i, trailing);
  }
  if (segs.length > 0 && !trailing) return redirect(segs, rawQuery);
  return folderIndex(lookup, dir, segs);
}

/** From the real folder `dir` down, its own settings hold (.pypages.yaml); a Target when they are broken. */
function enterFolder(lookup: Lookup, dir: string): Target | null {
  const rules = lookup.folder?.(dir);
  if (typeof rules === 'string') return { kind: 'misconfigured', reason: rules };
  if (rules) [lookup.index, lookup.deny] = [rules.index, rules.deny];
  return null;
}

/** Looks up `name` in the real folder `dir`; an Entry, or why it is refused. */
function enter(lookup: Lookup, dir: string, name: string): Entry | Confined | string {
  const real = realpathOrNull(path.join(dir, name));
  if (real === null) return 'missing';
  // Decided before stat, so nothing outside the root is ever looked at.
  if (relativeInside(lookup.root, real) === null) return 'outside root';
  const stats = statOrNull(real);
  if (stats === null) return 'missing';
  if (!stats.isFile() && !stats.isDirectory()) return 'not a regular file';
  const why = deniedReal(lookup, real, stats.isDirectory());
  if (why) return why;
  // A symlink must not turn a script into a static file or the reverse.
  if (stats.isFile() && isScriptName(name) !== isScriptName(path.basename(real))) {
    return 'symlink changes file kind';
  }
  return ownerRefusal(lookup, dir, name, { real, stats }) ?? { real, stats };
}

/** Under owner-match, why `entry` (`name` in the real folder `dir`) is refused: a link on the way, or its owner. */
function ownerRefusal(lookup: Lookup, dir: string, name: string, entry: Entry): Confined | null {
  if (!lookup.ownerMatch) return null;
  // No link was followed when the real path is the joined one: only the owner of a file counts.
  const hops = entry.real === path.join(dir, name) ? [] : linksFollowed(dir, name);
  if (hops === null) return { confined: `the links to ${entry.real} changed while they were checked` };
  const { uid } = entry.stats;
  const why = ownerMismatch(hops, { real: entry.real, uid, isFile: entry.stats.isFile() }, lookup.ownerMatch);
  return why === null ? null : { confined: why };
}

/**
 * Rules on where a path really is, after symlinks: inside the root, no denied
 * name on the way, not in a package folder. Checked at every step, so no
 * folder component may escape or pass through a denied folder either.
 */
function deniedReal(lookup: Lookup, real: string, isDir: boolean, checkPackages = true): string | null {
  const rel = relativeInside(lookup.root, real);
  if (rel === null) return 'outside root';
  const parts = rel === '' ? [] : rel.split(path.sep);
  for (const part of parts) {
    const why = deniedName(part);
    if (why) return `real path has ${why}`;
  }
  const denied = deniedPath(lookup.root, parts, isDir, lookup.deny, lookup.venvs);
  if (denied) return denied;
  if (!checkPackages) return null;
  // The root itself is exempt: the user chose to serve it.
  const folders = isDir ? parts.length : parts.length - 1;
  for (let n = 1; n <= folders; n++) {
    const folder = path.join(lookup.root, ...parts.slice(0, n));
    if (isClosedPackage(lookup, folder)) return 'package folder';
  }
  return null;
}

/** A folder with __init__.py is library code, unless it also has an index file. */
function isClosedPackage(lookup: Lookup, folder: string): boolean {
  let known = lookup.packages.get(folder);
  if (known === undefined) {
    const init = statOrNull(path.join(folder, '__init__.py')) !== null;
    const index = init ? findIndex(lookup, folder, false) : null;
    known = init && (index === null || 'confined' in index); // an index refused by owner-match opens nothing
    lookup.packages.set(folder, known);
  }
  return known;
}

/**
 * The first usable entry of the index list in the real folder `dir`.
 * `checkPackages` is off only while deciding whether `dir` is a package,
 * which is what the index itself settles. One refused by owner-match ends
 * the search: the folder's answer is that refusal.
 */
function findIndex(lookup: Lookup, dir: string, checkPackages: boolean): Index | Confined | null {
  for (const name of lookup.index) {
    if (deniedName(name) !== null) continue;
    const real = realpathOrNull(path.join(dir, name));
    if (real === null) continue;
    const stats = statOrNull(real);
    if (stats === null || !stats.isFile()) continue;
    if (isScriptName(name) !== isScriptName(path.basename(real))) continue;
    if (deniedReal(lookup, real, false, checkPackages) !== null) continue;
    return ownerRefusal(lookup, dir, name, { real, stats }) ?? { name, real };
  }
  return null;
}

type Index = { name: string; real: string };

// ---------------------------------------------------------------- targets

/** A regular file was hit at segment `i`; the rest of the path decides. */
function fileTarget(entry: Entry, segs: Segment[], i: number, trailing: boolean): Target {
  const name = segs[i].name as string;
  if (isScriptName(name)) {
    const rest = segs.slice(i + 1);
    const pathInfo = joinLatin1(rest) + (trailing ? '/' : '');
    return { kind: 'script', file: entry.real, scriptName: joinLatin1(segs.slice(0, i + 1)), pathInfo };
  }
  if (i < segs.length - 1 || trailing) return notFound(`static file has no sub-path: ${JSON.stringify(name)}`);
  return { kind: 'static', file: entry.real, urlPath: joinNames(segs) };
}

/** A folder URL ending in '/': its index, never a listing. */
function folderIndex(lookup: Lookup, dir: string, segs: Segment[]): Target {
  const found = findIndex(lookup, dir, true);
  if (found === null)
    return { kind: 'not-found', reason: `no index in folder ${JSON.stringify(joinNames(segs) || '/')}`, folder: dir };
  if ('confined' in found) return confined(found);
  const prefix = segs.length === 0 ? '' : joinLatin1(segs);
  if (isScriptName(found.name)) {
    const scriptName = `${prefix}/${Buffer.from(found.name, 'utf8').toString('latin1')}`;
    return { kind: 'script', file: found.real, scriptName, pathInfo: '' };
  }
  return { kind: 'static', file: found.real, urlPath: `${joinNames(segs)}/${found.name}` };
}

/**
 * 301 to the folder URL with its slash. Rebuilt from decoded segments, so it
 * always starts with exactly one '/' followed by a non-empty segment: never
 * a protocol-relative '//host' open redirect.
 */
function redirect(segs: Segment[], rawQuery: string): Target {
  const pathPart = segs.map((s) => encodeBytes(s.bytes, SAFE_PATH)).join('/');
  const query = rawQuery === '' ? '' : `?${encodeText(rawQuery, SAFE_QUERY)}`;
  return { kind: 'redirect', location: `/${pathPart}/${query}` };
}

function notFound(reason: string): Target {
  return { kind: 'not-found', reason };
}

function confined(refused: Confined): Target {
  return { kind: 'not-found', reason: refused.confined, confined: true };
}

function badRequest(reason: string): Target {
  return { kind: 'bad-request', reason };
}
