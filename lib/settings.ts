// The one table of pypages settings. Each setting is defined here once: its
// name, CLI flag, YAML key, default, validation and help text. CLI parsing,
// YAML validation, --help and the README table are all derived from SETTINGS.
import { existsSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';

/** The value of every setting, by name (Config adds `configFile`). */
export interface SettingValues {
  root: string;
  port: number;
  host: string;
  python: string;
  debug: boolean;
  index: readonly string[];
  threads: number;
}

/** Where a raw value came from; `base` is the folder relative paths resolve against. */
export interface ValueContext {
  readonly from: 'cli' | 'yaml' | 'api' | 'default';
  readonly base: string;
}

/** Thrown by a setting's `parse`; the caller adds the file and key. */
export class InvalidValue extends Error {
  constructor(readonly allowed: string, readonly got: unknown) {
    super(`must be ${allowed} (got ${describe(got)})`);
    this.name = 'InvalidValue';
  }
}

export interface Setting<T> {
  readonly name: string;
  /** `--port`; for the positional setting, its metavar (`DIR`). */
  readonly flag: string;
  readonly positional: boolean;
  /** Placeholder shown after the flag (`N`); null for a boolean switch. */
  readonly metavar: string | null;
  /** Key in pypages.yaml (kebab-case); null for CLI-only settings. */
  readonly yaml: string | null;
  readonly default: T;
  /** The default as shown in --help and the README. */
  readonly defaultText: string;
  /** What a valid value is, phrased to follow "must be". */
  readonly allowed: string;
  readonly help: string;
  /** Validates and normalises a raw CLI string or YAML value; throws InvalidValue. */
  readonly parse: (raw: unknown, ctx: ValueContext) => T;
}

type Table = { readonly [K in keyof SettingValues]: Setting<SettingValues[K]> } & {
  readonly config: Setting<string | null>;
};

/** Renders a raw value for an error message. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function integer(min: number, max: number): (raw: unknown) => number {
  const allowed = `an integer from ${min} to ${max}`;
  return (raw) => {
    const n = typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : raw;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw new InvalidValue(allowed, raw);
    return n;
  };
}

function nonEmptyString(raw: unknown): string {
  if (typeof raw !== 'string' || raw.trim() === '') throw new InvalidValue('a non-empty string', raw);
  return raw.trim();
}

function boolean(raw: unknown): boolean {
  if (typeof raw !== 'boolean') throw new InvalidValue('true or false', raw);
  return raw;
}

const DIRECTORY = 'an existing directory';

function directory(raw: unknown, ctx: ValueContext): string {
  if (typeof raw !== 'string' || raw === '') throw new InvalidValue(DIRECTORY, raw);
  const full = path.resolve(ctx.base, raw);
  if (!existsSync(full) || !statSync(full).isDirectory()) throw new InvalidValue(DIRECTORY, full);
  return realpathSync(full);
}

const PYTHON = 'a Python interpreter (path or command) or a virtualenv folder';

/** '' stays '' (auto); a path, or a bare name that exists in `base`, becomes absolute; else a command. */
function pythonSpec(raw: unknown, ctx: ValueContext): string {
  if (typeof raw !== 'string') throw new InvalidValue(PYTHON, raw);
  const spec = raw.trim();
  if (spec === '') return '';
  const looksLikePath = /[\\/]/.test(spec) || existsSync(path.resolve(ctx.base, spec));
  return looksLikePath ? path.resolve(ctx.base, spec) : spec;
}

const FILE_NAMES = 'a non-empty list of file names (no "/", not starting with ".")';

function fileNameList(raw: unknown): readonly string[] {
  const items = typeof raw === 'string' ? raw.split(',') : raw;
  if (!Array.isArray(items)) throw new InvalidValue(FILE_NAMES, raw);
  const names = items.map((item) => (typeof item === 'string' ? item.trim() : item)).filter((item) => item !== '');
  const plain = (name: unknown) => typeof name === 'string' && !/[\\/\0]/.test(name) && !name.startsWith('.');
  if (names.length === 0 || !names.every(plain)) throw new InvalidValue(FILE_NAMES, raw);
  return Object.freeze([...new Set(names as string[])]);
}

const CONFIG_FILE = 'an existing YAML file';

function configFile(raw: unknown, ctx: ValueContext): string {
  if (typeof raw !== 'string' || raw === '') throw new InvalidValue(CONFIG_FILE, raw);
  const full = path.resolve(ctx.base, raw);
  if (!existsSync(full) || !statSync(full).isFile()) throw new InvalidValue(CONFIG_FILE, full);
  return full;
}

export const DEFAULT_CONFIG_FILE = 'pypages.yaml';

export const SETTINGS: Table = {
  root: {
    name: 'root', flag: 'DIR', positional: true, metavar: 'DIR', yaml: 'root',
    default: 'www', defaultText: 'www',
    allowed: DIRECTORY,
    help: 'Document root to serve. On the command line relative to the current folder; in pypages.yaml relative to that file\'s folder.',
    parse: directory,
  },
  port: {
    name: 'port', flag: '--port', positional: false, metavar: 'N', yaml: 'port',
    default: 8000, defaultText: '8000',
    allowed: 'an integer from 0 to 65535',
    help: 'TCP port to listen on (0 picks a free port).',
    parse: integer(0, 65535),
  },
  host: {
    name: 'host', flag: '--host', positional: false, metavar: 'ADDR', yaml: 'host',
    default: '127.0.0.1', defaultText: '127.0.0.1',
    allowed: 'a non-empty string',
    help: 'Address to bind. The default accepts local connections only; use 0.0.0.0 to listen on every interface.',
    parse: nonEmptyString,
  },
  python: {
    name: 'python', flag: '--python', positional: false, metavar: 'PATH', yaml: 'python',
    default: '', defaultText: 'python3, then python, on PATH',
    allowed: PYTHON,
    help: 'Python interpreter to run pages with: a path, a command on PATH, or a virtualenv folder. Relative paths in pypages.yaml are relative to that file\'s folder.',
    parse: pythonSpec,
  },
  debug: {
    name: 'debug', flag: '--debug', positional: false, metavar: null, yaml: 'debug',
    default: false, defaultText: 'false',
    allowed: 'true or false',
    help: 'Debug mode: show tracebacks in the browser. Never enable on a public server.',
    parse: boolean,
  },
  index: {
    name: 'index', flag: '--index', positional: false, metavar: 'LIST', yaml: 'index',
    default: Object.freeze(['index.py', 'index.html']), defaultText: 'index.py,index.html',
    allowed: FILE_NAMES,
    help: 'Files that serve a folder URL, tried in order. Comma-separated on the command line; a list or a comma-separated string in pypages.yaml.',
    parse: fileNameList,
  },
  threads: {
    name: 'threads', flag: '--threads', positional: false, metavar: 'N', yaml: 'threads',
    default: 16, defaultText: '16',
    allowed: 'an integer from 1 to 512',
    help: 'Request threads per Python worker process.',
    parse: integer(1, 512),
  },
  config: {
    name: 'config', flag: '--config', positional: false, metavar: 'FILE', yaml: null,
    default: null, defaultText: `${DEFAULT_CONFIG_FILE} in the current folder, if present`,
    allowed: CONFIG_FILE,
    help: 'YAML file of settings, using the yaml: keys listed here. Command-line flags override it.',
    parse: configFile,
  },
};

/** Every setting, in table order. */
export const SETTING_LIST: readonly Setting<unknown>[] = Object.values(SETTINGS);

/** The settings stored in Config (everything but `config`). */
export const VALUE_NAMES = Object.keys(SETTINGS).filter((name) => name !== 'config') as (keyof SettingValues)[];

/** Settings allowed in pypages.yaml, keyed by YAML key. */
export const YAML_SETTINGS: ReadonlyMap<string, Setting<unknown>> = new Map(
  SETTING_LIST.filter((s) => s.yaml !== null).map((s) => [s.yaml as string, s]),
);
