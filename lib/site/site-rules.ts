// The `sites:` list of pypages.yaml, parsed: each site's name, host names,
// document root and its own values of the per-site settings
// (SITE_SETTING_NAMES in lib/config/hosting-settings.ts, which hands their
// parsers in), each checked by the parser of the top-level setting of that
// name, so a value's rules live once.
//
//   sites:
//     - name: shop
//       hosts: [shop.example.com, "*.shop.example.com", "shop.test:8080"]
//       root: /srv/shop
//       max-body: 10M
import { InvalidValue, type ValueContext } from '../config/setting-parsers.js';
import type { GroupKeys } from '../config/group-rules.js';
import { directory } from '../config/setting-parsers.js';
import { hostPattern } from './hosts.js';
import { devBindProblem } from '../config/dev-mode.js';
import type { SettingValues } from '../config/settings.js';

export interface SiteRule {
  readonly name: string;
  /** Host patterns, normalised (lower case, no trailing dot): `a.example`, `*.example`, each with an optional `:port`. */
  readonly hosts: readonly string[];
  readonly root: string;
  /** The site's own values, by setting name; everything else it inherits from the server's top level. */
  readonly values: Readonly<Record<string, unknown>>;
}

export const SITES_ALLOWED =
  'a list of sites, each a mapping with "name", "hosts" (host names, "*.example.com" wildcards, optional ":port"), "root" and optional per-site settings';

/** Site names pypages uses itself: the top-level root's site, default-site's refusal, user folders' "~user". */
export const RESERVED_SITE_NAMES = ['default', 'reject'];

/** Parses `sites:`; the error names the site and key that are wrong (under --check, every one: ctx.report). */
export function parseSiteRules(raw: unknown, ctx: ValueContext, keys: GroupKeys): readonly SiteRule[] {
  if (!Array.isArray(raw)) throw new InvalidValue(SITES_ALLOWED, raw);
  const seen = new Set<string>(RESERVED_SITE_NAMES);
  const rules: SiteRule[] = [];
  raw.forEach((entry, i) => {
    reported(ctx, () => {
      const rule = parseSite(entry, `sites[${i}]`, ctx, keys);
      if (seen.has(rule.name))
        throw new InvalidValue(
          `${SITES_ALLOWED}; sites[${i}].name must be unique and not default or reject`,
          rule.name,
        );
      seen.add(rule.name);
      rules.push(rule);
    });
  });
  return Object.freeze(rules);
}

/** Runs `parse`; under --check (ctx.report) its InvalidValue is reported and the rest of the list still checked. */
function reported(ctx: ValueContext, parse: () => void): void {
  try {
    parse();
  } catch (err) {
    if (!ctx.report || !(err instanceof InvalidValue)) throw err;
    ctx.report(err);
  }
}

function parseSite(entry: unknown, where: string, ctx: ValueContext, keys: GroupKeys): SiteRule {
  const fail = (what: string, got: unknown): never => {
    throw new InvalidValue(`${SITES_ALLOWED}; ${where}${what}`, got);
  };
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) fail(' is not a mapping', entry);
  const { name, hosts, root, ...rest } = entry as Record<string, unknown>;
  if (typeof name !== 'string' || !/^[\w][\w.-]*$/.test(name))
    fail('.name must be a word (letters, digits, _ . -)', name);
  const list = typeof hosts === 'string' ? [hosts] : hosts;
  if (!Array.isArray(list) || list.length === 0) fail('.hosts must be a host name or a list of them', hosts);
  const patterns = (list as unknown[]).map((h) => hostPattern(h) ?? fail('.hosts has an invalid host name', h));
  const values = Object.freeze(siteValues(rest, where, ctx, keys)); // first: --check lists them even if root is wrong
  return Object.freeze({
    name: name as string,
    hosts: Object.freeze(patterns),
    root: checked(() => directory(root, ctx), `${where}.root`),
    values,
  });
}

function siteValues(rest: Record<string, unknown>, where: string, ctx: ValueContext, keys: GroupKeys) {
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest)) {
    const setting = keys.get(key);
    if (!setting) {
      const allowed = `name, hosts, root, ${[...keys.keys()].join(', ')}`;
      reported(ctx, () => {
        throw new InvalidValue(`${SITES_ALLOWED}; ${where} has unknown key "${key}" (allowed: ${allowed})`, key);
      });
      continue;
    }
    reported(ctx, () => {
      values[setting.name] = checked(() => setting.parse(value, ctx), `${where}.${key}`);
    });
  }
  return values;
}

function checked<T>(parse: () => T, where: string): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof InvalidValue)
      throw new InvalidValue(`${SITES_ALLOWED}; ${where} must be ${err.allowed}`, err.got);
    throw err;
  }
}

/**
 * What is wrong between hosting settings that are each valid alone: a
 * default-site naming no site, a site with dev or debug mode on a public
 * address without allow-remote-dev (the rule of lib/config/dev-mode.ts, per site).
 */
export function hostingProblems(
  values: Pick<SettingValues, 'sites' | 'defaultSite' | 'host' | 'dev' | 'debug' | 'trustProxy' | 'allowRemoteDev'>,
): { key: string; message: string }[] {
  const problems: { key: string; message: string }[] = [];
  const names = ['default', 'reject', ...values.sites.map((s) => s.name)];
  if (!names.includes(values.defaultSite))
    problems.push({
      key: 'default-site',
      message: `default-site: must be "default", "reject" or the name of a site of sites: (${names.slice(2).join(', ') || 'none'}) (got ${JSON.stringify(values.defaultSite)})`,
    });
  for (const site of values.sites) {
    const own = site.values as Partial<SettingValues>;
    const exposed = devBindProblem({ ...values, dev: own.dev ?? values.dev, debug: own.debug ?? values.debug });
    // Only what the site sets itself: the top level's own exposure is the top level's problem.
    if (exposed && own[exposed.key as 'dev' | 'debug'] !== undefined)
      problems.push({ key: 'sites', message: `sites: ${site.name}: ${exposed.message}` });
  }
  return problems;
}
