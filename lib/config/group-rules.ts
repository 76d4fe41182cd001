// Named interpreter groups from pypages.yaml:
//
//   groups:
//     - name: alice
//       match: [users/alice/**]     # globs over script paths, relative to the document root
//       processes: 2
//       threads: 4
//
// Each group may override the per-group settings (GROUP_SETTING_NAMES in
// ./settings.ts, which hands their parsers in); each value is checked by the
// same parser as the top-level setting of that name, so the rules live once.
import { InvalidValue, type ValueContext } from './setting-parsers.js';

export interface GroupRule {
  readonly name: string;
  readonly match: readonly string[];
  readonly test: (scriptPath: string) => boolean;
  /** Per-group overrides, by setting name (e.g. threads, pythonPath). */
  readonly overrides: Readonly<Record<string, unknown>>;
}

/** The per-group settings: YAML key → (setting name, parser). */
export type GroupKeys = ReadonlyMap<string, { name: string; parse: (raw: unknown, ctx: ValueContext) => unknown }>;

export const GROUPS_ALLOWED =
  'a list of groups, each a mapping with "name", "match" (globs) and optional per-group settings';

/** Parses the `groups:` list; the error says which group and key is wrong. */
export function parseGroupRules(raw: unknown, ctx: ValueContext, keys: GroupKeys): readonly GroupRule[] {
  if (!Array.isArray(raw)) throw new InvalidValue(GROUPS_ALLOWED, raw);
  const names = new Set<string>();
  return Object.freeze(
    raw.map((entry, i) => {
      const rule = parseRule(entry, `groups[${i}]`, ctx, keys);
      if (names.has(rule.name))
        throw new InvalidValue(`${GROUPS_ALLOWED}; groups[${i}].name must be unique`, rule.name);
      names.add(rule.name);
      return rule;
    }),
  );
}

function parseRule(entry: unknown, where: string, ctx: ValueContext, keys: GroupKeys): GroupRule {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
    throw new InvalidValue(`${GROUPS_ALLOWED}; ${where} is not a mapping`, entry);
  const { name, match, ...rest } = entry as Record<string, unknown>;
  if (typeof name !== 'string' || !/^[\w.-]+$/.test(name))
    throw new InvalidValue(`${GROUPS_ALLOWED}; ${where}.name must be a word (letters, digits, _ . -)`, name);
  const globs = typeof match === 'string' ? [match] : match;
  if (!Array.isArray(globs) || globs.length === 0 || !globs.every((g) => typeof g === 'string' && g !== '')) {
    throw new InvalidValue(`${GROUPS_ALLOWED}; ${where}.match must be a glob or a list of globs`, match);
  }
  const overrides = parseOverrides(rest, where, ctx, keys);
  const regexes = (globs as string[]).map(globToRegExp);
  return Object.freeze({
    name,
    match: Object.freeze([...globs]),
    test: (p: string) => regexes.some((r) => r.test(p)),
    overrides: Object.freeze(overrides),
  });
}

/** A group's per-group settings, each checked by its setting's own parser; keyed by setting name. */
function parseOverrides(
  entries: Record<string, unknown>,
  where: string,
  ctx: ValueContext,
  keys: GroupKeys,
): Record<string, unknown> {
  const overrides: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entries)) {
    const setting = keys.get(key);
    if (!setting)
      throw new InvalidValue(
        `${GROUPS_ALLOWED}; ${where} has unknown key "${key}" (allowed: name, match, ${[...keys.keys()].join(', ')})`,
        key,
      );
    try {
      overrides[setting.name] = setting.parse(value, ctx);
    } catch (err) {
      if (err instanceof InvalidValue)
        throw new InvalidValue(`${GROUPS_ALLOWED}; ${where}.${key} must be ${err.allowed}`, value);
      throw err;
    }
  }
  return overrides;
}

/** Glob over "/"-separated paths: `**` any depth, `*` within one segment, `?` one character. */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      out += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out.replace(/^\//, '')}$`);
}
