// pypages.yaml read into a plain mapping, or a ConfigError naming the file,
// line and column of what does not parse.
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { ConfigError } from './config-error.js';
import { YAML_SETTINGS } from './settings.js';

function yamlError(file: string, name: string, message: string, pos?: { line: number; col: number }): ConfigError {
  const where = pos ? `${name}, line ${pos.line}, column ${pos.col}` : name;
  const short = message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  return new ConfigError(`${where}: invalid YAML: ${short}`, file, null);
}

/** Reads a YAML file into a plain object; null for an empty file. */
export function readYaml(file: string, name: string): Record<string, unknown> | null {
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
