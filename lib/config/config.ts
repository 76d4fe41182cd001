// Command-line flags + pypages.yaml → one validated, frozen Config.
// Precedence: defaults < YAML file < command-line flags. Every value is
// validated where it was written (a bad YAML value is an error even if a flag
// overrides it), so errors name the file or flag the operator must fix.
//
// Exit codes (the server's business, listed here so there is one place):
//   2 = usage or config error (ConfigError), 3 = Python missing or too old
//   (InterpreterError from lib/groups/interpreter.ts).
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import YAML from 'yaml';
import { devBindProblem } from './dev-mode.js';
import { helpText, META_FLAGS, versionText } from './help.js';
import {
  DEFAULT_CONFIG_FILE,
  describe,
  InvalidValue,
  SETTINGS,
  SETTING_LIST,
  VALUE_NAMES,
  YAML_SETTINGS,
  type Setting,
  type SettingValues,
  type ValueContext,
} from './settings.js';

export interface Config extends Readonly<SettingValues> {
  readonly configFile: string | null;
}

/** A usage or configuration error; the message names the file (if any), the key or flag, and what is allowed. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly file: string | null = null,
    readonly key: string | null = null,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

export type CliResult =
  | { kind: 'help'; text: string }
  | { kind: 'version'; text: string }
  | { kind: 'run'; config: Config };

type Values = { -readonly [K in keyof SettingValues]?: SettingValues[K] };

/** Validates one raw value; turns InvalidValue into a ConfigError prefixed with `where` ("pypages.yaml: port"). */
function check<T>(s: Setting<T>, raw: unknown, ctx: ValueContext, where: string, file: string | null, key: string): T {
  try {
    return s.parse(raw, ctx);
  } catch (err) {
    if (!(err instanceof InvalidValue)) throw err;
    const hint = ctx.from === 'default' ? ', the default; give the folder to serve: pypages DIR' : '';
    throw new ConfigError(`${where}: must be ${err.allowed} (got ${describe(err.got)}${hint})`, file, key);
  }
}

/** Closest candidate within two edits, for "did you mean" hints. */
function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance && d < c.length) [best, bestDistance] = [c, d];
  }
  return best;
}

/** Edit distance counting a swap of two neighbours as one edit (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** Builds the frozen Config: given values over defaults; the default root resolves against `cwd`. */
function finish(values: Values, cwd: string, configFile: string | null): Config {
  const root =
    values.root ?? check(SETTINGS.root, SETTINGS.root.default, { from: 'default', base: cwd }, 'root', null, 'root');
  const config: Record<string, unknown> = { configFile };
  for (const name of VALUE_NAMES) config[name] = values[name] ?? SETTINGS[name].default;
  config.root = root;
  config.index = Object.freeze([...(config.index as string[])]);
  if (Boolean(config.cert) !== Boolean(config.key)) {
    const missing = config.cert ? 'key' : 'cert';
    throw new ConfigError(
      `${missing}: cert and key go together for HTTPS: give both (--cert FILE --key FILE, or cert: and key: in ${configFile ? shown(configFile, cwd) : DEFAULT_CONFIG_FILE}) or neither`,
      configFile,
      missing,
    );
  }
  const exposed = devBindProblem(config as unknown as Config);
  if (exposed) throw new ConfigError(exposed.message, configFile, exposed.key);
  return Object.freeze(config) as unknown as Config;
}

/** Defaults + validation for tests and embedding; relative paths resolve against process.cwd(). Throws ConfigError. */
export function makeConfig(values: Partial<Omit<Config, 'configFile'>> & { root: string }): Config {
  const cwd = process.cwd();
  const out: Values = {};
  for (const [name, raw] of Object.entries(values)) {
    if (!(VALUE_NAMES as string[]).includes(name)) {
      throw new ConfigError(`unknown setting "${name}"; allowed: ${VALUE_NAMES.join(', ')}`, null, name);
    }
    if (raw === undefined) continue;
    const s = SETTINGS[name as keyof SettingValues] as Setting<unknown>;
    (out as Record<string, unknown>)[name] = check(s, raw, { from: 'api', base: cwd }, name, null, name);
  }
  return finish(out, cwd, null);
}

/** Path as shown in messages: relative to cwd when inside it, else absolute. */
function shown(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

function yamlError(file: string, name: string, message: string, pos?: { line: number; col: number }): ConfigError {
  const where = pos ? `${name}, line ${pos.line}, column ${pos.col}` : name;
  const short = message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  return new ConfigError(`${where}: invalid YAML: ${short}`, file, null);
}

/** Reads a YAML file into a plain object; null for an empty file. */
function readYaml(file: string, name: string): Record<string, unknown> | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${name}: cannot read: ${(err as Error).message}`, file, null);
  }
  const doc = YAML.parseDocument(text, { prettyErrors: true });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) throw yamlError(file, name, problem.message, problem.linePos?.[0]);
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (err) {
    throw yamlError(file, name, (err as Error).message);
  }
  if (data === null || data === undefined) return null;
  if (typeof data !== 'object' || Array.isArray(data)) {
    const kind = Array.isArray(data) ? 'a list' : `the ${typeof data} ${JSON.stringify(data)}`;
    throw new ConfigError(
      `${name}: must be a mapping of settings (key: value), got ${kind}; allowed keys: ${[...YAML_SETTINGS.keys()].join(', ')}`,
      file,
      null,
    );
  }
  return data as Record<string, unknown>;
}

/** Validates every key of a YAML file; relative paths resolve against the file's folder. */
function loadYaml(file: string, cwd: string): Values {
  const name = shown(file, cwd);
  const data = readYaml(file, name) ?? {};
  const allowed = [...YAML_SETTINGS.keys()];
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(data)) {
    const s = YAML_SETTINGS.get(key);
    if (!s) {
      const guess = closest(key, allowed);
      const hint = guess ? `. Did you mean "${guess}"?` : '';
      throw new ConfigError(
        `${name}: unknown key ${JSON.stringify(key)}; allowed keys: ${allowed.join(', ')}${hint}`,
        file,
        key,
      );
    }
    out[s.name] = check(s, raw, { from: 'yaml', base: path.dirname(file) }, `${name}: ${key}`, file, key);
  }
  return out as Values;
}

type CliSetting = Setting<unknown> & { readonly flag: string };
const FLAGS: ReadonlyMap<string, CliSetting> = new Map(
  SETTING_LIST.filter((s): s is CliSetting => !s.positional && s.flag !== null).map((s) => [s.flag.slice(2), s]),
);
const POSITIONAL = SETTING_LIST.find((s) => s.positional) as CliSetting;
const CONFIG_FLAG = SETTINGS.config.flag as string;

function parseOptions(): Record<string, { type: 'string' | 'boolean'; short?: string }> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, s] of FLAGS) options[name] = { type: s.metavar === null ? 'boolean' : 'string' };
  for (const m of META_FLAGS)
    options[m.flag.slice(2)] = m.short ? { type: 'boolean', short: m.short.slice(1) } : { type: 'boolean' };
  return options;
}

type Token = ReturnType<typeof parseArgs>['tokens'] extends (infer T)[] | undefined ? T : never;

type RawFlag = { setting: Setting<unknown>; raw: unknown; key: string };
type OptionToken = Extract<Token, { kind: 'option' }>;

/** One raw CLI value per setting name (last flag wins), checked for shape but not yet validated. */
function rawFlags(tokens: Token[]): Map<string, RawFlag> {
  const out = new Map<string, RawFlag>();
  const positionals: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'positional') positionals.push(t.value);
    if (t.kind !== 'option') continue;
    const flag = optionValue(t);
    out.set(flag.setting.name, flag);
  }
  if (positionals.length > 1) {
    throw new ConfigError(
      `expected at most one ${POSITIONAL.flag} (${POSITIONAL.name}), got ${positionals.length}: ${positionals.join(' ')}`,
      null,
      POSITIONAL.flag,
    );
  }
  if (positionals.length === 1)
    out.set(POSITIONAL.name, { setting: POSITIONAL, raw: positionals[0], key: POSITIONAL.flag });
  return out;
}

/** One option's setting and raw value: a switch takes no value, any other flag needs one. Throws ConfigError. */
function optionValue(t: OptionToken): RawFlag {
  const s = FLAGS.get(t.name);
  if (!s) throw unknownOption(t.rawName);
  if (s.metavar === null) {
    if (t.value !== undefined)
      throw new ConfigError(`${s.flag}: takes no value (got ${JSON.stringify(t.value)})`, null, s.flag);
    return { setting: s, raw: true, key: s.flag };
  }
  if (t.value === undefined || (!t.inlineValue && t.value.startsWith('--'))) {
    throw new ConfigError(
      `${s.flag}: needs a value: ${s.flag} ${s.metavar}, where ${s.metavar} is ${s.allowed}`,
      null,
      s.flag,
    );
  }
  return { setting: s, raw: t.value, key: s.flag };
}

/** The error for a flag no setting has, naming the closest one there is. */
function unknownOption(rawName: string): ConfigError {
  const guess = closest(
    rawName,
    [...FLAGS.values()].map((f) => f.flag),
  );
  return new ConfigError(
    `unknown option "${rawName}"${guess ? ` (did you mean ${guess}?)` : ''}; see pypages --help`,
    null,
    rawName,
  );
}

/** The config file to read: an explicit --config (must exist), else pypages.yaml in cwd if present. */
function configPath(explicit: { raw: unknown } | undefined, cwd: string): string | null {
  if (explicit) return check(SETTINGS.config, explicit.raw, { from: 'cli', base: cwd }, CONFIG_FLAG, null, CONFIG_FLAG);
  const fallback = path.join(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(fallback) && statSync(fallback).isFile() ? fallback : null;
}

/** Parses argv (without node and script) run from `cwd`: help, version, or a validated Config. Throws ConfigError. */
export function parseCli(argv: string[], cwd: string): CliResult {
  const { tokens } = parseArgs({
    args: argv,
    options: parseOptions(),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help')) return { kind: 'help', text: helpText() };
  if (tokens.some((t) => t.kind === 'option' && t.name === 'version')) return { kind: 'version', text: versionText() };
  const flags = rawFlags(tokens.filter((t) => !(t.kind === 'option' && (t.name === 'help' || t.name === 'version'))));
  const file = configPath(flags.get(SETTINGS.config.name), cwd);
  const values: Record<string, unknown> = file ? { ...loadYaml(file, cwd) } : {};
  for (const [name, { setting, raw, key }] of flags) {
    if (name === SETTINGS.config.name) continue;
    values[name] = check(setting, raw, { from: 'cli', base: cwd }, key, null, key);
  }
  return { kind: 'run', config: finish(values as Values, cwd, file) };
}
