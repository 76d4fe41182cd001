// Value parsers for the settings table: each validates and normalises a raw
// CLI string or YAML value, or throws InvalidValue saying what is allowed.
import { existsSync, realpathSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';

/** Where a raw value came from; `base` is the folder relative paths resolve against. */
export interface ValueContext {
  readonly from: 'cli' | 'yaml' | 'api' | 'default';
  readonly base: string;
  /**
   * pypages --check: a list of entries (sites:) reports each bad entry or key
   * here and keeps checking the rest, instead of throwing at the first.
   */
  readonly report?: (problem: InvalidValue) => void;
}

/** Thrown by a setting's `parse`; the caller adds the file and key. */
export class InvalidValue extends Error {
  constructor(
    readonly allowed: string,
    readonly got: unknown,
  ) {
    super(`must be ${allowed} (got ${describe(got)})`);
    this.name = 'InvalidValue';
  }
}

/** Renders a raw value for an error message. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  // Numbers via String: JSON would show Infinity and NaN (YAML .inf, .nan) as null.
  const text = typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function integer(min: number, max: number): (raw: unknown) => number {
  const allowed = `an integer from ${min} to ${max}`;
  return (raw) => {
    const n = typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : raw;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw new InvalidValue(allowed, raw);
    return n;
  };
}

export function nonEmptyString(raw: unknown): string {
  if (typeof raw !== 'string' || raw.trim() === '') throw new InvalidValue('a non-empty string', raw);
  return raw.trim();
}

export function boolean(raw: unknown): boolean {
  if (typeof raw !== 'boolean') throw new InvalidValue('true or false', raw);
  return raw;
}

/** dev: true, false, or "auto" (decided from the address: lib/config/dev-mode.ts). */
export function devMode(raw: unknown): boolean | 'auto' {
  if (raw !== 'auto' && typeof raw !== 'boolean') throw new InvalidValue('true, false or "auto"', raw);
  return raw;
}

export const DIRECTORY = 'an existing directory';

export function directory(raw: unknown, ctx: ValueContext): string {
  if (typeof raw !== 'string' || raw === '') throw new InvalidValue(DIRECTORY, raw);
  const full = path.resolve(ctx.base, raw);
  if (!existsSync(full) || !statSync(full).isDirectory()) throw new InvalidValue(DIRECTORY, full);
  return realpathSync(full);
}

export const PYTHON = 'a Python interpreter (path or command) or a virtualenv folder';

/** '' stays '' (auto); a path, or a bare name that exists in `base`, becomes absolute; else a command. */
export function pythonSpec(raw: unknown, ctx: ValueContext): string {
  if (typeof raw !== 'string') throw new InvalidValue(PYTHON, raw);
  const spec = raw.trim();
  if (spec === '') return '';
  const looksLikePath = /[\\/]/.test(spec) || existsSync(path.resolve(ctx.base, spec));
  return looksLikePath ? path.resolve(ctx.base, spec) : spec;
}

export const FILE_NAMES = 'a non-empty list of file names (no "/", not starting with ".")';

export function fileNameList(raw: unknown): readonly string[] {
  const items = typeof raw === 'string' ? raw.split(',') : raw;
  if (!Array.isArray(items)) throw new InvalidValue(FILE_NAMES, raw);
  const names = items.map((item) => (typeof item === 'string' ? item.trim() : item)).filter((item) => item !== '');
  const plain = (name: unknown) => typeof name === 'string' && !/[\\/\0]/.test(name) && !name.startsWith('.');
  if (names.length === 0 || !names.every(plain)) throw new InvalidValue(FILE_NAMES, raw);
  return Object.freeze([...new Set(names as string[])]);
}

export const CONFIG_FILE = 'an existing YAML file';

export function configFile(raw: unknown, ctx: ValueContext): string {
  if (typeof raw !== 'string' || raw === '') throw new InvalidValue(CONFIG_FILE, raw);
  const full = path.resolve(ctx.base, raw);
  if (!existsSync(full) || !statSync(full).isFile()) throw new InvalidValue(CONFIG_FILE, full);
  return full;
}

/** One of a fixed set of words. */
export function oneOf<T extends string>(...words: T[]): (raw: unknown) => T {
  const allowed = words
    .map((w) => `"${w}"`)
    .join(', ')
    .replace(/, ([^,]*)$/, ' or $1');
  return (raw) => {
    const word = typeof raw === 'string' ? raw.trim() : raw;
    if (!words.includes(word as T)) throw new InvalidValue(allowed, raw);
    return word as T;
  };
}

/** A duration in seconds (fractions allowed, so tests can use short ones); 0 where allowed means "off". */
export function seconds(min: number, max: number): (raw: unknown) => number {
  const allowed = `a number of seconds from ${min} to ${max}`;
  return (raw) => {
    const n = typeof raw === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : raw;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max) throw new InvalidValue(allowed, raw);
    return n;
  };
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** A size in bytes: 1048576, "64K", "10M", "1G" (binary units); 0 where allowed means "no limit". */
export function size(min: number, max: number): (raw: unknown) => number {
  const allowed = `a size in bytes from ${min} to ${max} (suffix K, M or G allowed)`;
  return (raw) => {
    // "i" only after a unit (KiB); a fraction only with a unit ("1.5K" rounds, "1.5" bytes is rejected).
    const m = typeof raw === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*(?:([kmg])i?)?b?\s*$/i.exec(raw) : null;
    const n = m ? (m[2] ? Math.round(Number(m[1]) * UNITS[m[2].toLowerCase()]) : Number(m[1])) : raw;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw new InvalidValue(allowed, raw);
    return n;
  };
}

/** A comma-separated string or a YAML list of strings (empty allowed). */
export function stringItems(raw: unknown): string[] | null {
  const items = typeof raw === 'string' ? raw.split(',') : raw;
  if (!Array.isArray(items) || !items.every((i) => typeof i === 'string')) return null;
  return (items as string[]).map((i) => i.trim()).filter((i) => i !== '');
}

export const ADDRESSES = 'a list of IP addresses or CIDR ranges (e.g. 10.0.0.0/8, ::1)';

/** IP addresses and CIDR ranges, IPv4 or IPv6. */
export function addressList(raw: unknown): readonly string[] {
  const items = stringItems(raw);
  const valid = (item: string) => {
    const [address, bits, extra] = item.split('/');
    const family = isIP(address);
    if (!family || extra !== undefined) return false;
    return bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
  };
  if (!items?.every(valid)) throw new InvalidValue(ADDRESSES, raw);
  return Object.freeze(items);
}

export const MODULES = 'a list of Python module names (e.g. flask, django.conf)';

export function moduleList(raw: unknown): readonly string[] {
  const items = stringItems(raw);
  if (!items?.every((i) => /^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$/.test(i))) throw new InvalidValue(MODULES, raw);
  return Object.freeze(items);
}

export const GLOBS = 'a list of glob patterns (e.g. *.db, secrets.*, /data/**)';

/** Globs: a YAML list or a comma-separated string; no empty pattern, no "." or ".." segment. */
export function globList(raw: unknown): readonly string[] {
  const items = stringItems(raw);
  if (!items?.every((i) => !i.split('/').some((seg) => seg === '.' || seg === '..')))
    throw new InvalidValue(GLOBS, raw);
  return Object.freeze(items);
}

export const PATHS = 'a list of folders';

/** Folders, absolute or relative to the config file's folder (the current folder on the command line). */
export function pathList(raw: unknown, ctx: ValueContext): readonly string[] {
  const items = stringItems(raw);
  if (!items) throw new InvalidValue(PATHS, raw);
  return Object.freeze(items.map((i) => path.resolve(ctx.base, i)));
}

export const SCRIPTS = 'a list of script paths relative to the document root (e.g. app.py, blog/index.py)';

export function scriptList(raw: unknown): readonly string[] {
  const items = stringItems(raw);
  if (!items?.every((i) => i.endsWith('.py') && !path.isAbsolute(i) && !i.split(/[\\/]/).includes('..')))
    throw new InvalidValue(SCRIPTS, raw);
  return Object.freeze(items.map((i) => i.replace(/\\/g, '/').replace(/^\.\//, '')));
}

export const ENV = 'a mapping of environment variable names to strings';

export function envMap(raw: unknown): Readonly<Record<string, string>> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new InvalidValue(ENV, raw);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || !['string', 'number', 'boolean'].includes(typeof value))
      throw new InvalidValue(ENV, raw);
    out[name] = String(value);
  }
  return Object.freeze(out);
}

export const URL_PATH = 'a URL path starting with "/", or "" for off';

export function urlPath(raw: unknown): string {
  if (typeof raw !== 'string' || (raw !== '' && !/^\/[^\s?#]*$/.test(raw))) throw new InvalidValue(URL_PATH, raw);
  return raw;
}

export const OPTIONAL_FOLDER = 'a folder, or "" for the script\'s own folder';
export const OPTIONAL_FILE = 'an existing file, or "" for none';

/** An existing file or folder (absolute, or relative to ctx.base), or '' for none. */
function optionalPath(allowed: string, kind: 'file' | 'folder'): (raw: unknown, ctx: ValueContext) => string {
  return (raw, ctx) => {
    if (typeof raw !== 'string') throw new InvalidValue(allowed, raw);
    if (raw.trim() === '') return '';
    const full = path.resolve(ctx.base, raw.trim());
    const stats = existsSync(full) ? statSync(full) : null;
    if (!stats || (kind === 'file' ? !stats.isFile() : !stats.isDirectory())) throw new InvalidValue(allowed, full);
    return full;
  };
}

export const optionalFolder = optionalPath(OPTIONAL_FOLDER, 'folder');
export const optionalFile = optionalPath(OPTIONAL_FILE, 'file');
