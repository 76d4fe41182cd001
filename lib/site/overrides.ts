// .pypages.yaml: a folder's own settings, for it and everything below, as
// Apache's .htaccess under AllowOverride. Only the keys its site's
// allow-override lists (from FOLDER_SETTING_NAMES: index, deny, debug, dev,
// env, max-body) are accepted; none by default, and then no file is even read.
// Each value is checked by the parser of the setting of that name, relative
// paths against the file's folder. A file that does not parse, or sets a
// key it may not, makes its folder and everything below it answer 500 with
// the file and key in the error log; it never stops the server.
//
// Files are looked at on every request (a stat each, from the site's root
// down to the folder), so an edit takes effect at the next request; their
// parsed contents are kept until they change. Deeper files win: index, debug
// and max-body are replaced; deny globs are added, anchored at the file's
// folder (`*.db` there is `folder/**/*.db`), so no folder can unlock what a
// folder above it, its site or the server denies.
//
// What a folder may not take from its operator:
// - env adds variables and never replaces one the operator set: the
//   server's own environment, pypages.yaml's env (server, site, named
//   group) and what a worker's launch sets for its user (PATH, HOME, USER,
//   LOGNAME, SHELL) keep their values; the folder's value for such a name is
//   dropped. Refused outright (500, named): names read by the loader or the
//   interpreter before the page's code, LD_*, MALLOC_*, PYTHON*, pypages'
//   own PYPAGES_*, and glibc's list of variables unsafe for a privileged
//   process (GCONV_PATH, LOCPATH, TMPDIR, ...): started as root, a worker's
//   environment is already in place when setpriv (root) runs, before it
//   switches to the page's user. A folder with env gets groups of its own
//   (lib/groups/spec.ts keys them by it), so no other folder's page sees it.
// - dev can only go down: `dev: false` turns development mode off for the
//   folder and below; `true` (or auto) gives back the site's own setting
//   below a folder that turned it off, never more. A site without it (a
//   public address without allow-remote-dev: lib/config/dev-mode.ts) keeps
//   it off whatever its folders say; a site that has it for loopback Hosts
//   only ('local') keeps that limit.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { InvalidValue, SETTINGS, type SettingValues } from '../config/settings.js';
import { denyRules, type FolderRules } from '../http/deny.js';
import { statOrNull } from '../http/fs-probe.js';
import type { ResolveOptions, Target } from '../http/resolve.js';
import { ownerMatchOf } from '../tenant/symlinks.js';
import { perSite, type Site } from './site.js';

export const OVERRIDE_FILE = '.pypages.yaml';

type Values = Partial<Pick<SettingValues, 'index' | 'deny' | 'debug' | 'maxBody' | 'env' | 'dev'>>;

/** Environment variables a folder may not set (see above). */
// biome-ignore format: a list read as a list
const REFUSED_ENV = new RegExp(`^(LD_|MALLOC_|PYTHON|PYPAGES|(${[
  'GCONV_PATH', 'GETCONF_DIR', 'HOSTALIASES', 'LOCALDOMAIN', 'LOCPATH', 'NIS_PATH', 'NLSPATH',
  'RESOLV_HOST_CONF', 'RES_OPTIONS', 'TMPDIR', 'TZDIR', 'GLIBC_TUNABLES', // glibc's unsecvars.h, and its tunables (read by setpriv as root)
].join('|')})$)`, 'i');
/** Set for a worker's user by its launch (lib/tenant/launch-line.ts): never a folder's to change. */
const LAUNCH_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL'];
type Merged = Record<string, unknown> & { deny: string[]; env: Record<string, string>; dev: Site['dev'] };
interface Parsed {
  readonly stamp: string;
  readonly values: Values | string;
}

/** The folder settings of one site: resolution rules, and the site as a folder sees it. */
export class SiteFolders {
  private readonly files = new Map<string, Parsed>();
  private readonly views = new Map<string, Site>();

  constructor(readonly site: Site) {}

  /** For lib/http/resolve.ts: index and deny from `dir` down; undefined when no file changes them; a string when one is broken. */
  readonly rules = (dir: string): FolderRules | string | undefined => {
    const chain = this.chain(dir);
    if (typeof chain === 'string') return chain;
    if (chain.length === 0) return undefined;
    const merged = this.merge(dir, chain);
    return { index: merged.index, deny: merged.deny };
  };

  /** The site with the settings of real folder `dir` (the site itself when no file applies), or why they are broken. */
  siteAt(dir: string): Site | string {
    const chain = this.chain(dir);
    if (typeof chain === 'string') return chain;
    return chain.length === 0 ? this.site : this.merge(dir, chain);
  }

  /** The parsed files from the root down to `dir`, as [folder, values]; the first problem as a string. */
  private chain(dir: string): [string, Values][] | string {
    const rel = path.relative(this.site.root, dir);
    if (rel.startsWith('..') || path.isAbsolute(rel)) return [];
    const folders = [
      this.site.root,
      ...rel
        .split(path.sep)
        .filter(Boolean)
        .map((_, i, all) => path.join(this.site.root, ...all.slice(0, i + 1))),
    ];
    const out: [string, Values][] = [];
    for (const folder of folders) {
      const values = this.read(path.join(folder, OVERRIDE_FILE));
      if (typeof values === 'string') return values;
      if (values) out.push([folder, values]);
    }
    return out;
  }

  private merge(dir: string, chain: [string, Values][]): Site {
    const key = `${dir}\0${chain.map(([f]) => this.files.get(path.join(f, OVERRIDE_FILE))?.stamp).join('\0')}`;
    let view = this.views.get(key);
    if (view) return view;
    const own: Merged = { ...this.site, deny: [...this.site.deny.globs], env: {} };
    for (const [folder, values] of chain) this.apply(own, folder, values);
    const { env, ...rest } = own;
    view = Object.freeze({ ...rest, deny: denyRules(own.deny), ...this.folderEnv(env) }) as unknown as Site;
    if (this.views.size > 1000) this.views.clear();
    this.views.set(key, view);
    return view;
  }

  /** One file's values over those of the folders above it. */
  private apply(own: Merged, folder: string, values: Values): void {
    const { deny, env, dev, ...rest } = values;
    Object.assign(own, rest);
    own.deny.push(...(deny ?? []).map((glob) => anchored(this.site.root, folder, glob)));
    Object.assign(own.env, env);
    if (dev !== undefined) own.dev = dev === false ? false : this.site.dev;
  }

  /** `folderEnv` for a view: the folder's variables the operator did not set, sorted (a group key); none: nothing. */
  private folderEnv(env: Record<string, string>): Pick<Site, 'folderEnv'> {
    const operator = this.site.groupDefaults.env;
    const names = Object.keys(env).filter(
      (n) => !(n in operator) && process.env[n] === undefined && !LAUNCH_ENV.includes(n),
    );
    if (names.length === 0) return {};
    return { folderEnv: Object.freeze(Object.fromEntries(names.sort().map((n) => [n, env[n]]))) };
  }

  /** A file's values (null: no file), read again when it changes. */
  private read(file: string): Values | string | null {
    const s = statOrNull(file);
    if (!s?.isFile()) return null;
    const stamp = `${s.mtimeMs}:${s.size}:${s.ino}`;
    const known = this.files.get(file);
    if (known?.stamp === stamp) return known.values;
    const values = parseOverrides(file, this.site.allowOverride);
    this.files.set(file, { stamp, values });
    return values;
  }
}

/** A folder's deny glob as a glob from the site's root. */
function anchored(root: string, folder: string, glob: string): string {
  const rel = path.relative(root, folder).split(path.sep).join('/');
  const prefix = rel === '' ? '' : `${rel}/`;
  return glob.includes('/') ? `${prefix}${glob.replace(/^\//, '')}` : `${prefix}**/${glob}`;
}

/** A .pypages.yaml's values, or what is wrong with it (naming the file and the key): its first problem. */
export function parseOverrides(file: string, allowed: readonly string[]): Values | string {
  const { values, problems } = readOverrides(file, allowed);
  return problems[0] ?? values;
}

/** Every problem of a .pypages.yaml, each naming the file and the key (pypages --check lists them all), and the values that are fine. */
export function readOverrides(file: string, allowed: readonly string[]): { values: Values; problems: string[] } {
  let data: unknown;
  try {
    data = YAML.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return { values: {}, problems: [`${file}: invalid YAML: ${(err as Error).message.split('\n')[0]}`] };
  }
  if (data === null || data === undefined) return { values: {}, problems: [] };
  if (typeof data !== 'object' || Array.isArray(data))
    return { values: {}, problems: [`${file}: must be a mapping of settings (key: value)`] };
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, raw] of Object.entries(data)) {
    const problem = overrideValue(values, key, raw, file, allowed);
    if (problem) problems.push(`${file}: ${problem}`);
  }
  return { values: values as Values, problems };
}

/** Parses one key into `values`; what is wrong with it, or null. */
function overrideValue(
  values: Record<string, unknown>,
  key: string,
  raw: unknown,
  file: string,
  allowed: readonly string[],
) {
  if (!allowed.includes(key))
    return `${key}: not allowed in a folder's ${OVERRIDE_FILE} (allow-override: ${allowed.join(', ')})`;
  const name = key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof SettingValues;
  let value: unknown;
  try {
    value = SETTINGS[name].parse(raw, { from: 'yaml', base: path.dirname(file) });
  } catch (err) {
    if (!(err instanceof InvalidValue)) throw err;
    return `${key}: must be ${err.allowed}`;
  }
  const refused = name === 'env' ? Object.keys(value as object).filter((n) => REFUSED_ENV.test(n)) : [];
  if (refused.length > 0)
    return `env: ${refused.join(', ')}: a folder may not set variables read before the page runs (LD_*, MALLOC_*, PYTHON*, PYPAGES_*, GCONV_PATH, LOCPATH, TMPDIR and the rest of glibc's unsafe list)`;
  values[name] = value;
  return null;
}

const foldersOf = perSite((site) => new SiteFolders(site));

/** How lib/http/resolve.ts resolves in `site`: its index and deny, and its folders' .pypages.yaml when allow-override lets them. */
export function resolveOptions(site: Site): ResolveOptions {
  const folder = site.allowOverride.length ? foldersOf(site).rules : undefined;
  return { index: site.index, deny: site.deny, folder, ownerMatch: ownerMatchOf(site) };
}

/** The site as the folder of `target` sees it (its .pypages.yaml files), or a misconfigured target when they are broken. */
export function inFolder(site: Site, target: Target): { site: Site; target: Target } {
  const dir = site.allowOverride.length === 0 ? undefined : folderOf(target);
  if (dir === undefined) return { site, target };
  const seen = foldersOf(site).siteAt(dir);
  return typeof seen === 'string' ? { site, target: { kind: 'misconfigured', reason: seen } } : { site: seen, target };
}

/** The real folder whose settings hold for `target`: a file's, or a folder without an index (dev mode lists it). */
function folderOf(target: Target): string | undefined {
  if (target.kind === 'script' || target.kind === 'static') return path.dirname(target.file);
  return target.kind === 'not-found' ? target.folder : undefined;
}
