// One site from the server's settings and the site's own values. What a site
// inherits: every per-site setting it does not set itself comes from the
// top level of pypages.yaml (or its flag); `deny` and `env` add to the
// top level's instead of replacing them, so a site can never unlock what the
// operator denied server-wide. Sites never inherit from each other.
import type { Config } from '../config/config.js';
import { GROUP_SETTING_NAMES, type SettingValues } from '../config/settings.js';
import { devModeOn } from '../config/dev-mode.js';
import { denyRules } from '../http/deny.js';
import { pythonOfSpec } from '../groups/venv.js';
import { startedAsRoot } from '../tenant/identity.js';
import { SITE_LIMIT_NAMES, type GroupDefaults, type Site, type SiteLimits } from './site.js';

const GROUP_DEFAULT_NAMES = GROUP_SETTING_NAMES.filter((name) => name !== 'python');

/** What makes a site besides the settings. */
export interface SiteIdentity {
  readonly name: string;
  readonly root: string;
  readonly hosts: readonly string[];
  /** A user folder's URL prefix (`/~alice`), else "". */
  readonly prefix?: string;
  readonly user?: string;
}

/** The site `identity` with `own` values over `config`'s; `python`: the checked interpreter of the server. */
export function buildSite(
  identity: SiteIdentity,
  config: Config,
  own: Readonly<Record<string, unknown>>,
  python: string,
): Site {
  const v = inherited(config, own);
  const firstExact = identity.hosts.find((h) => !h.startsWith('*.'));
  return Object.freeze({
    name: identity.name,
    root: identity.root,
    hosts: Object.freeze([...identity.hosts]),
    prefix: identity.prefix ?? '',
    user: identity.user ?? null,
    serverName: firstExact ? firstExact.replace(/:\d+$/, '') : null,
    index: v.index,
    deny: denyRules(v.deny),
    debug: v.debug,
    dev: devModeOn(v) && (v.dev === 'auto' ? 'local' : true),
    maxBody: v.maxBody,
    python: typeof own.python === 'string' && own.python ? pythonOfSpec(own.python) : python,
    grouping: v.grouping,
    groupRules: v.groups,
    groupDefaults: pick(v, GROUP_DEFAULT_NAMES) as GroupDefaults,
    limits: pick(v, SITE_LIMIT_NAMES) as SiteLimits,
    ...tenancyOf(v),
    allowOverride: v.allowOverride,
    logs: logsOf(v, identity),
  });
}

/** symlinks auto: links must match their target's owner where tenants exist (started as root). */
function tenancyOf(v: SettingValues): Pick<Site, 'allowRootPages' | 'symlinks'> {
  const symlinks = v.symlinks !== 'auto' ? v.symlinks : startedAsRoot() ? 'owner-match' : 'follow';
  return { allowRootPages: v.allowRootPages, symlinks };
}

/** `own` over `config`'s values; deny and env add to the server's. */
function inherited(config: Config, own: Readonly<Record<string, unknown>>): SettingValues {
  const deny = [...config.deny, ...((own.deny as string[] | undefined) ?? [])];
  const env = { ...config.env, ...((own.env as Record<string, string> | undefined) ?? {}) };
  return { ...config, ...own, deny, env } as SettingValues;
}

function logsOf(v: SettingValues, identity: SiteIdentity): Site['logs'] {
  return Object.freeze({
    access: expand(v.accessLog, identity),
    error: expand(v.errorLog, identity),
    format: v.accessLogFormat,
  });
}

/** `{site}` and `{user}` in a log path: the site's name (a user folder's is ~USER) and its user ("" for host sites). */
export function expand(file: string, identity: Pick<SiteIdentity, 'name' | 'user'>): string {
  return file.replace(/\{site\}/g, identity.name).replace(/\{user\}/g, identity.user ?? '');
}

function pick(values: SettingValues, names: readonly (keyof SettingValues)[]): Readonly<Partial<SettingValues>> {
  return Object.freeze(Object.fromEntries(names.map((name) => [name, values[name]])));
}
