// The shared-hosting settings of the table in ./settings.ts: sites, user
// folders, folder overrides and log files, and which settings a site
// (sites:) or a folder (.pypages.yaml, within allow-override) may set.
// Kept apart so the table's file stays one screenful per concern.
import path from 'node:path';
import { parseSiteRules, RESERVED_SITE_NAMES, SITES_ALLOWED, type SiteRule } from '../site/site-rules.js';
import type { GroupKeys } from './group-rules.js';
import { GLOBS, globList, integer, InvalidValue, oneOf, stringItems, type ValueContext } from './setting-parsers.js';
import type { Entry } from './setting.js';
import { TENANT_SITE_SETTING_NAMES } from './tenant-settings.js';

export interface HostingValues {
  deny: readonly string[];
  sites: readonly SiteRule[];
  defaultSite: string;
  userdir: string;
  userdirMinUid: number;
  userdirAllow: readonly string[];
  userdirDeny: readonly string[];
  allowOverride: readonly string[];
  accessLog: string;
  accessLogFormat: 'combined' | 'vhost-combined';
  errorLog: string;
}

/** Settings a site of `sites:` may set for itself (a user folder's site inherits them). */
// biome-ignore format: a list read as a list
export const SITE_SETTING_NAMES = [
  'index', 'deny', 'debug', 'dev', 'grouping', 'groups', 'python', 'pythonPath', 'env', 'cwd', 'preload', 'venv',
  'processes', 'threads', 'idleTimeout', 'queueLimit', 'queueTimeout', 'requestTimeout', 'maxRequests',
  'maxRequestsJitter', 'maxMemory', 'heartbeatTimeout', 'maxBody', 'allowOverride', 'accessLog', 'accessLogFormat',
  'errorLog', ...TENANT_SITE_SETTING_NAMES,
] as const;

/** Settings a .pypages.yaml may set for its folder and below, when the site's allow-override lists them. */
// env adds variables and dev can only turn development mode off (lib/site/overrides.ts says why).
export const FOLDER_SETTING_NAMES = ['index', 'deny', 'debug', 'dev', 'env', 'maxBody'] as const;

const USERS = 'a list of user names';
const LOG = 'a file path (may hold {site} and {user}), or "-" for the standard stream';
const FOLDER_KEYS = FOLDER_SETTING_NAMES.map((n) => n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`));
const OVERRIDES = `a list of keys from ${FOLDER_KEYS.join(', ')}`;

function userList(raw: unknown): readonly string[] {
  const items = stringItems(raw);
  if (!items?.every((u) => /^[a-z_][\w.-]*\$?$/i.test(u))) throw new InvalidValue(USERS, raw);
  return Object.freeze(items);
}

function logPath(raw: unknown, ctx: ValueContext): string {
  if (typeof raw !== 'string' || raw.trim() === '') throw new InvalidValue(LOG, raw);
  return raw.trim() === '-' ? '-' : path.resolve(ctx.base, raw.trim());
}

function overrideKeys(raw: unknown): readonly string[] {
  const items = stringItems(raw);
  if (!items?.every((k) => FOLDER_KEYS.includes(k))) throw new InvalidValue(OVERRIDES, raw);
  return Object.freeze(items);
}

function userdirFolder(raw: unknown): string {
  const allowed = 'a folder name inside each home directory (e.g. public_html), or "" for off';
  if (typeof raw !== 'string' || path.isAbsolute(raw) || raw.split('/').some((s) => s === '..'))
    throw new InvalidValue(allowed, raw);
  return raw.trim().replace(/\/+$/, '');
}

function siteName(raw: unknown): string {
  if (typeof raw !== 'string' || !/^[\w][\w.-]*$/.test(raw)) throw new InvalidValue('a site name, or "reject"', raw);
  return raw;
}

type HostingEntries = { readonly [K in Exclude<keyof HostingValues, 'sites'>]: Entry<HostingValues[K]> };

/** The sites: entry of the table; `keys` gives the per-site settings' parsers, by YAML key. */
// biome-ignore format: one setting per entry, its fields on the lines a reader scans
export function sitesEntry(keys: () => GroupKeys): Entry<readonly SiteRule[]> {
  return {
    only: 'yaml', metavar: null, default: Object.freeze([]), defaultText: 'none: one site, the root',
    allowed: SITES_ALLOWED, parse: (raw, ctx) => parseSiteRules(raw, ctx, keys()),
    help: 'Virtual hosts, chosen by the Host header. Each site has a name, hosts, a root and any setting marked in the Site column; the rest it inherits from the top level. See README "Hosting many sites".',
  };
}

/** The table's entries for these settings, but sites (sitesEntry). */
// biome-ignore format: one setting per entry, its fields on the lines a reader scans
export const HOSTING_ENTRIES: HostingEntries = {
  deny: {
    metavar: 'GLOBS', default: Object.freeze([]), defaultText: 'none (the built-in denials hold)',
    allowed: GLOBS, parse: globList,
    help: 'Paths answered 404, on top of the built-in denials (pypages.yaml, .pypages.yaml, every virtualenv). A glob without "/" is matched against every name on the path (*.db), one with "/" against the path from the document root (/data/**); case-insensitive.',
  },
  defaultSite: {
    metavar: 'NAME', default: RESERVED_SITE_NAMES[0], defaultText: 'default (the root\'s own site)',
    allowed: 'a site name, or "reject"', parse: siteName,
    help: 'The site of a request whose Host names no site; "reject" answers it 421 Misdirected Request.',
  },
  userdir: {
    metavar: 'FOLDER', default: '', defaultText: 'off',
    allowed: 'a folder name inside each home directory (e.g. public_html), or "" for off', parse: userdirFolder,
    help: 'Serve /~USER/ from this folder of USER\'s home directory (as mod_userdir). Each user\'s folder is its own site, named ~USER.',
  },
  userdirMinUid: {
    metavar: 'UID', default: 1000, defaultText: '1000',
    allowed: 'an integer from 1 to 4294967295', parse: integer(1, 2 ** 32 - 1),
    help: 'Only users with a uid at or above this get a user folder (root never does).',
  },
  userdirAllow: {
    metavar: 'USERS', default: Object.freeze([]), defaultText: 'everyone',
    allowed: USERS, parse: userList,
    help: 'If given, only these users get a user folder.',
  },
  userdirDeny: {
    metavar: 'USERS', default: Object.freeze([]), defaultText: 'none',
    allowed: USERS, parse: userList,
    help: 'These users never get a user folder.',
  },
  allowOverride: {
    metavar: 'KEYS', default: Object.freeze([]), defaultText: 'none (.pypages.yaml files are ignored)',
    allowed: OVERRIDES, parse: overrideKeys,
    help: 'Keys a .pypages.yaml may set for its folder and below (as Apache\'s AllowOverride). A file with any other key answers 500 for its folder, with the reason in the error log. A folder\'s env adds variables but never replaces the operator\'s; its dev can turn development mode off, never on where the site has it off.',
  },
  accessLog: {
    metavar: 'FILE', default: '-', defaultText: '- (stdout)',
    allowed: LOG, parse: logPath,
    help: 'Where access lines go. Opened for appending; reopened on SIGUSR1 (for logrotate).',
  },
  accessLogFormat: {
    metavar: 'FORMAT', default: 'combined', defaultText: 'combined',
    allowed: '"combined" or "vhost-combined"', parse: oneOf('combined', 'vhost-combined'),
    help: 'combined: Apache\'s combined format. vhost-combined: the same, then the site\'s name (Apache\'s %v) and the time taken in microseconds (%D).',
  },
  errorLog: {
    metavar: 'FILE', default: '-', defaultText: '- (stderr)',
    allowed: LOG, parse: logPath,
    help: 'Where error lines go, with page output and tracebacks of the site\'s scripts. Opened for appending; reopened on SIGUSR1 (for logrotate).',
  },
};
