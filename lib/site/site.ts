// The request → site step. A site is a document root and every setting a
// request under it reads: its index, debug mode, body limit, how its scripts
// are grouped and the limits of those groups. A request's site is chosen once,
// by siteFor(), before anything looks at its URL; from then on the resolver,
// the environ (DOCUMENT_ROOT, SERVER_NAME), static sending, the error pages,
// the group of a script and the worker's --root all read that site, never the
// config. The config makes exactly one, the default site; more sites
// (virtual hosts, user folders) would be more entries here, chosen by Host.
//
// Server-wide, not per site: what is decided before a request's site can be
// known (listening, TLS, head size and client timeouts, trust-proxy: the Host
// that chooses the site is the one believed through trusted proxies), the
// operator pages, and what all sites share (max-workers, launch, shutdown).

import type { Config } from '../config/config.js';
import { devModeOn } from '../config/dev-mode.js';
import type { GroupRule } from '../config/group-rules.js';
import { GROUP_SETTING_NAMES, type GroupSettingName, type SettingValues } from '../config/settings.js';

/** The per-group settings a site gives its groups, which named groups may override; python is Site.python. */
export type GroupDefaults = Pick<SettingValues, Exclude<GroupSettingName, 'python'>>;

/** The limits of a site's groups and of the requests they run. */
export const SITE_LIMIT_NAMES = [
  'queueLimit',
  'queueTimeout',
  'requestTimeout',
  'maxRequests',
  'maxRequestsJitter',
  'maxMemory',
  'heartbeatTimeout',
  'idleTimeout',
] as const;
export type SiteLimits = Pick<SettingValues, (typeof SITE_LIMIT_NAMES)[number]>;

export interface Site {
  /** Unique among the sites; two sites never share a group. */
  readonly name: string;
  /** The document root, absolute and real (symlinks resolved). */
  readonly root: string;
  /** SERVER_NAME for its pages, or null: the Host the client asked for. */
  readonly serverName: string | null;
  readonly index: readonly string[];
  /** Tracebacks in the short error pages (--debug); development mode has pages of its own. */
  readonly debug: boolean;
  /** Development mode (lib/config/dev-mode.ts): pages that teach, 404s explained in the log; 'local': on by default, so for requests to a loopback Host only. */
  readonly dev: boolean | 'local';
  readonly maxBody: number;
  /** The checked interpreter its groups run, unless a named group or a .venv says otherwise. */
  readonly python: string;
  readonly grouping: SettingValues['grouping'];
  readonly groupRules: readonly GroupRule[];
  readonly groupDefaults: Readonly<GroupDefaults>;
  readonly limits: Readonly<SiteLimits>;
}

/** Every site of a config, and which one a request is for. */
export interface Sites {
  readonly all: readonly Site[];
  /** The site of a request whose Host names no other site (with one site: every request). */
  readonly fallback: Site;
  /** The site of a request for `host` (the Host header as believed through trusted proxies; undefined when absent). */
  siteFor(host: string | undefined): Site;
}

/** The sites `config` describes: one, the default site. `python` is the checked interpreter path. */
export function sitesOf(config: Config, python: string): Sites {
  const fallback = defaultSite(config, python);
  return Object.freeze({ all: Object.freeze([fallback]), fallback, siteFor: () => fallback });
}

function defaultSite(config: Config, python: string): Site {
  return Object.freeze({
    name: 'default',
    root: config.root,
    serverName: null,
    index: config.index,
    debug: config.debug,
    dev: devModeOn(config) && (config.dev === 'auto' ? 'local' : true),
    maxBody: config.maxBody,
    python,
    grouping: config.grouping,
    groupRules: config.groups,
    groupDefaults: pick(
      config,
      GROUP_SETTING_NAMES.filter((name) => name !== 'python'),
    ) as GroupDefaults,
    limits: pick(config, SITE_LIMIT_NAMES) as SiteLimits,
  });
}

function pick(config: Config, names: readonly (keyof SettingValues)[]): Readonly<Partial<SettingValues>> {
  return Object.freeze(Object.fromEntries(names.map((name) => [name, config[name]])));
}

/**
 * One value per site, built at its first use: a site's resolver memory, its
 * static file cache. A reload makes new sites, and so new values; the old
 * ones go with the old sites.
 */
export function perSite<T>(build: (site: Site) => T): (site: Site) => T {
  const values = new WeakMap<Site, T>();
  return (site) => {
    let value = values.get(site);
    if (value === undefined) values.set(site, (value = build(site)));
    return value;
  };
}
