// What one setting is, and what its name gives it: its command-line flag
// (--NAME) and its YAML key (NAME), NAME in kebab-case. The table of all
// settings is ./settings.ts.
import type { ValueContext } from './setting-parsers.js';

/** A setting as the rest of pypages sees it. */
export interface Setting<T> {
  readonly name: string;
  /** `--port`; for the positional setting, its metavar (`DIR`); null for YAML-only settings. */
  readonly flag: string | null;
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

/** A setting as the table writes it: the rest comes from its name. */
export type Entry<T> = Omit<Setting<T>, 'name' | 'flag' | 'positional' | 'yaml'> & {
  /** Where it may be given, when not both as --flag and in pypages.yaml: the command line's positional argument, YAML alone, or the command line alone. */
  readonly only?: 'positional' | 'yaml' | 'cli';
};

/** "maxBody" → "max-body": a setting's YAML key, and its flag after "--". */
export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** "a, b and c". */
export function spoken(words: readonly string[]): string {
  return words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

/** The Setting an Entry of the table stands for. */
export function define<T>(name: string, { only, ...entry }: Entry<T>): Setting<T> {
  const positional = only === 'positional';
  const flag = positional ? entry.metavar : only === 'yaml' ? null : `--${kebab(name)}`;
  return Object.freeze({ name, flag, positional, yaml: only === 'cli' ? null : kebab(name), ...entry });
}
