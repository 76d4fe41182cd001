// The request → site step. A site is a document root and every setting a
// request under it reads: its index, deny rules, debug mode, body limit, how
// its scripts are grouped and the limits of those groups, its logs. A
// request's site is chosen once, by siteFor(), before anything looks at its
// URL; from then on the resolver, the environ (DOCUMENT_ROOT, SERVER_NAME),
// static sending, the error pages, the group of a script and the worker's
// --root all read that site, never the config.
//
// The sites of a config: the root's own site, named "default"; one per
// entry of `sites:`, chosen by Host (./hosts.ts); and, with `userdir`, one
// per user folder, chosen by a /~USER path (./userdir.ts). How a site
// inherits the server's settings: ./build.ts.
//
// Server-wide, not per site: what is decided before a request's site can be
// known (listening, TLS, head size and client timeouts, trust-proxy: the Host
// that chooses the site is the one believed through trusted proxies), the
// operator pages, and what all sites share (max-workers, launch, shutdown).

import type { Config } from '../config/config.js';
import type { GroupRule } from '../config/group-rules.js';
import type { GroupSettingName, SettingValues } from '../config/settings.js';
import type { DenyRules } from '../http/deny.js';
import { buildSite } from './build.js';
import { hostMatcher } from './hosts.js';
import { userSites } from './userdir.js';

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
  /** Unique among the sites; two sites never share a group. "default", a name from sites:, or ~USER. */
  readonly name: string;
  /** The document root, absolute and real (symlinks resolved). */
  readonly root: string;
  /** Its host patterns (none for the default site and user folders). */
  readonly hosts: readonly string[];
  /** The URL path its root is served at, "" but for user folders ("/~alice"). */
  readonly prefix: string;
  /** The system user of a user folder's site, else null. */
  readonly user: string | null;
  /** SERVER_NAME for its pages (its first exact host name), or null: the Host the client asked for. */
  readonly serverName: string | null;
  readonly index: readonly string[];
  readonly deny: DenyRules;
  /** Tracebacks in the short error pages (--debug); development mode has pages of its own. */
  readonly debug: boolean;
  /** Development mode (lib/config/dev-mode.ts): pages that teach, 404s explained in the log; 'local': on by default, so for requests to a loopback Host only. */
  readonly dev: boolean | 'local';
  readonly maxBody: number;
  /** The interpreter its groups run, unless a named group or a .venv says otherwise. */
  readonly python: string;
  readonly grouping: SettingValues['grouping'];
  readonly groupRules: readonly GroupRule[];
  readonly groupDefaults: Readonly<GroupDefaults>;
  readonly limits: Readonly<SiteLimits>;
  /** Started as root: whether a page may run as root (allow-root-pages). */
  readonly allowRootPages: boolean;
  /** Whether files reached through symlinks must share their link's owner (symlinks, auto resolved). */
  readonly symlinks: 'owner-match' | 'follow';
  /** The keys its folders' .pypages.yaml files may set. */
  readonly allowOverride: readonly string[];
  /** Its log files ("-": the server's stdout/stderr), placeholders expanded, and the access-log format. */
  readonly logs: { readonly access: string; readonly error: string; readonly format: SettingValues['accessLogFormat'] };
  /** Seen from a folder whose .pypages.yaml sets env: the variables it adds (none the operator set), sorted. */
  readonly folderEnv?: Readonly<Record<string, string>>;
}

/** What sets a folder's groups apart from its site's for the same script: its .pypages.yaml env ("" when none). */
export function folderEnvKey(site: Site): string {
  return site.folderEnv ? `|env:${JSON.stringify(site.folderEnv)}` : '';
}

/** Every site of a config, and which one a request is for. */
export interface Sites {
  /** The default site and those of sites: (user folders' sites are made as they are asked for). */
  readonly all: readonly Site[];
  /** The site for what concerns no site in particular (its debug mode for a refused request). */
  readonly fallback: Site;
  /**
   * The site of a request for `host` (the Host header as believed through
   * trusted proxies; undefined when absent) and `urlPath` (raw); null when
   * no site has the host and default-site is "reject" (421).
   */
  siteFor(host: string | undefined, urlPath?: string): Site | null;
}

/** The sites `config` describes. `python` is the server's checked interpreter. */
export function sitesOf(config: Config, python: string): Sites {
  const main = buildSite({ name: 'default', root: config.root, hosts: [] }, config, {}, python);
  const named = config.sites.map((rule) => buildSite(rule, config, rule.values, python));
  const all = Object.freeze([main, ...named]);
  const byHost = named.length
    ? hostMatcher(named.map((site) => ({ hosts: site.hosts, value: site })))
    : () => undefined;
  const unknown = config.defaultSite === 'reject' ? null : (all.find((s) => s.name === config.defaultSite) ?? main);
  const users = config.userdir ? userSites(config, python) : null;
  return Object.freeze({
    all,
    fallback: unknown ?? main,
    siteFor(host: string | undefined, urlPath = '/') {
      const site = (host === undefined ? undefined : byHost(host)) ?? unknown;
      return site && users ? (users(urlPath) ?? site) : site;
    },
  });
}

/** The host patterns of every site, each once, for certificates (exact names and wildcards, ports removed). */
export function siteHostNames(sites: Sites): string[] {
  return [...new Set(sites.all.flatMap((s) => s.hosts.map((h) => h.replace(/:\d+$/, ''))))];
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
