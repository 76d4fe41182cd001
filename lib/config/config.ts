// Command-line flags + pypages.yaml → one validated, frozen Config.
// Precedence: defaults < YAML file < command-line flags. Every value is
// validated where it was written (a bad YAML value is an error even if a flag
// overrides it), so errors name the file or flag the operator must fix.
//
// Exit codes (the server's business, listed here so there is one place):
//   2 = usage or config error (ConfigError), 3 = Python missing or too old
//   (InterpreterError from lib/groups/interpreter.ts).
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { hostingProblems } from '../site/site-rules.js';
import { closest } from './closest.js';
import { ConfigError } from './config-error.js';
import { readYaml } from './yaml-file.js';
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

export { ConfigError };

export interface Config extends Readonly<SettingValues> {
  readonly configFile: string | null;
}

export type CliResult =
  | { kind: 'help'; text: string }
  | { kind: 'version'; text: string }
  | { kind: 'run'; config: Config }
  /** --check: every problem of the settings (config null when the root itself is wrong: nothing to walk). */
  | { kind: 'check'; config: Config | null; problems: string[] };

type Values = { -readonly [K in keyof SettingValues]?: SettingValues[K] };

/** Where --check lists the problems it finds; null: the first one is thrown. */
type Sink = ConfigError[] | null;

/**
 * Validates one raw value; turns InvalidValue into a ConfigError prefixed with `where` ("pypages.yaml: port").
 * With a sink, a list setting (sites:) lists each bad entry there and keeps the good ones.
 */
function check<T>(
  s: Setting<T>,
  raw: unknown,
  ctx: ValueContext,
  at: [where: string, file: string | null, key: string],
  sink: Sink = null,
): T {
  const [where, file, key] = at;
  const error = (err: InvalidValue) => {
    const hint = ctx.from === 'default' ? ', the default; give the folder to serve: pypages DIR' : '';
    return new ConfigError(`${where}: must be ${err.allowed} (got ${describe(err.got)}${hint})`, file, key);
  };
  try {
    // A listed entry's words follow the list's own description ("…; sites[0].max-body must be …"): those alone.
    const entry = (err: InvalidValue) =>
      `${where}: ${err.allowed.split('; ').slice(1).join('; ')} (got ${describe(err.got)})`;
    return s.parse(raw, sink ? { ...ctx, report: (err) => sink.push(new ConfigError(entry(err), file, key)) } : ctx);
  } catch (err) {
    if (!(err instanceof InvalidValue)) throw err;
    throw error(err);
  }
}

/** Runs `step`; with a sink (--check) a ConfigError it throws is listed there and false returned. */
function listed(sink: Sink, step: () => void): boolean {
  try {
    step();
    return true;
  } catch (err) {
    if (sink === null || !(err instanceof ConfigError)) throw err;
    sink.push(err);
    return false;
  }
}

/** Builds the frozen Config: given values over defaults; the default root resolves against `cwd`. Null: a sink got a bad root. */
function finish(values: Values, cwd: string, configFile: string | null, sink: Sink = null): Config | null {
  let root = values.root;
  if (root === undefined) {
    // Under --check, a root already listed as wrong is not tried again as the default.
    if (sink?.some((e) => e.key === 'root' || e.key === POSITIONAL.flag)) return null;
    const at: [string, null, string] = ['root', null, 'root'];
    const ok = listed(
      sink,
      () => (root = check(SETTINGS.root, SETTINGS.root.default, { from: 'default', base: cwd }, at)),
    );
    if (!ok) return null;
  }
  const config: Record<string, unknown> = { configFile };
  for (const name of VALUE_NAMES) config[name] = values[name] ?? SETTINGS[name].default;
  config.root = root;
  config.index = Object.freeze([...(config.index as string[])]);
  listed(sink, () => pairedCertAndKey(config, configFile, cwd));
  const problems = [
    ...hostingProblems(config as unknown as SettingValues),
    devBindProblem(config as unknown as Config),
  ];
  for (const problem of problems)
    if (problem)
      listed(sink, () => {
        throw new ConfigError(problem.message, configFile, problem.key);
      });
  return Object.freeze(config) as unknown as Config;
}

/** cert and key go together. */
function pairedCertAndKey(config: Record<string, unknown>, configFile: string | null, cwd: string): void {
  if (Boolean(config.cert) === Boolean(config.key)) return;
  const missing = config.cert ? 'key' : 'cert';
  throw new ConfigError(
    `${missing}: cert and key go together for HTTPS: give both (--cert FILE --key FILE, or cert: and key: in ${configFile ? shown(configFile, cwd) : DEFAULT_CONFIG_FILE}) or neither`,
    configFile,
    missing,
  );
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
    (out as Record<string, unknown>)[name] = check(s, raw, { from: 'api', base: cwd }, [name, null, name]);
  }
  return finish(out, cwd, null) as Config;
}

/** Path as shown in messages: relative to cwd when inside it, else absolute. */
function shown(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

/** Validates every key of a YAML file; relative paths resolve against the file's folder. With a sink, every bad key is listed. */
function loadYaml(file: string, cwd: string, sink: Sink): Values {
  const name = shown(file, cwd);
  const data = readYaml(file, name) ?? {};
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(data)) listed(sink, () => yamlValue(out, [name, file, key], raw, sink));
  return out as Values;
}

/** One key of a YAML file into `out`. */
function yamlValue(
  out: Record<string, unknown>,
  [name, file, key]: [string, string, string],
  raw: unknown,
  sink: Sink,
) {
  const s = YAML_SETTINGS.get(key);
  if (!s) {
    const allowed = [...YAML_SETTINGS.keys()];
    const guess = closest(key, allowed);
    const hint = guess ? `. Did you mean "${guess}"?` : '';
    throw new ConfigError(
      `${name}: unknown key ${JSON.stringify(key)}; allowed keys: ${allowed.join(', ')}${hint}`,
      file,
      key,
    );
  }
  out[s.name] = check(s, raw, { from: 'yaml', base: path.dirname(file) }, [`${name}: ${key}`, file, key], sink);
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
  if (explicit)
    return check(SETTINGS.config, explicit.raw, { from: 'cli', base: cwd }, [CONFIG_FLAG, null, CONFIG_FLAG]);
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
  const meta = (t: Token) => t.kind === 'option' && ['help', 'version', 'check'].includes(t.name);
  const flags = rawFlags(tokens.filter((t) => !meta(t)));
  const file = configPath(flags.get(SETTINGS.config.name), cwd);
  // --check lists every bad setting (each key of the file, each flag, each site) instead of stopping at the first.
  const sink: Sink = tokens.some((t) => t.kind === 'option' && t.name === 'check') ? [] : null;
  const values: Record<string, unknown> = file ? { ...loadYaml(file, cwd, sink) } : {};
  for (const [name, { setting, raw, key }] of flags) {
    if (name === SETTINGS.config.name) continue;
    listed(sink, () => (values[name] = check(setting, raw, { from: 'cli', base: cwd }, [key, null, key])));
  }
  const config = finish(values as Values, cwd, file, sink);
  if (sink) return { kind: 'check', config, problems: sink.map((e) => e.message) };
  return { kind: 'run', config: config as Config };
}
