// User folders, as mod_userdir: /~alice/… is served from `userdir` (say
// public_html) in alice's home directory, as its own site named "~alice"
// (its groups, its logs, SCRIPT_NAME starting with /~alice). A user has one
// when the system's user database (/etc/passwd) lists them with a uid at or
// above userdir-min-uid (never root), userdir-allow (if given) names them,
// userdir-deny does not, and the folder exists; otherwise the path is the
// host's site's, as under Apache (most often a 404). A user folder's site
// inherits the server's top-level settings, not the host's site: the same
// user is the same site under every host.
//
// /etc/passwd is read (lib/tenant/accounts.ts), not `getent`: a lookup per
// unknown name must not start a process (a client can ask for /~a, /~b, ...
// at will). Users known only to NSS (LDAP, sssd) are therefore not seen.
import path from 'node:path';
import type { Config } from '../config/config.js';
import { realpathOrNull, relativeInside, statOrNull } from '../http/fs-probe.js';
import type { Target } from '../http/resolve.js';
import { encodeText, SAFE_QUERY } from '../http/url-path.js';
import { machineAccounts } from '../tenant/accounts.js';
import { buildSite } from './build.js';
import type { Site } from './site.js';

const USER_PATH = /^\/(?:~|%7e)([a-z_][\w.-]*\$?)(?=\/|\?|$)/i;
const RECHECK_MS = 2000; // a user or folder that did not exist is looked for again after this
const MAX_REMEMBERED = 10_000;

export interface PasswdEntry {
  readonly uid: number;
  readonly home: string;
}

/** The user folder sites of `config`: a function from a raw URL path to its user's site, or null. */
export function userSites(config: Config, python: string, passwd = passwdReader()): (urlPath: string) => Site | null {
  const known = new Map<string, { site: Site | null; until: number }>();
  return (urlPath) => {
    const user = USER_PATH.exec(urlPath)?.[1];
    if (user === undefined) return null;
    const hit = known.get(user);
    if (hit && (hit.site !== null || hit.until > Date.now())) return hit.site;
    if (known.size >= MAX_REMEMBERED) known.clear();
    const site = userSite(user, config, python, passwd(user));
    known.set(user, { site, until: Date.now() + RECHECK_MS });
    return site;
  };
}

function userSite(user: string, config: Config, python: string, entry: PasswdEntry | undefined): Site | null {
  if (!entry || entry.uid === 0 || entry.uid < config.userdirMinUid) return null;
  if (config.userdirDeny.includes(user)) return null;
  if (config.userdirAllow.length > 0 && !config.userdirAllow.includes(user)) return null;
  // The folder must really be in the home: a link from public_html to another user's files serves nothing.
  const [home, root] = [realpathOrNull(entry.home), realpathOrNull(path.join(entry.home, config.userdir))];
  if (home === null || root === null || relativeInside(home, root) === null || !statOrNull(root)?.isDirectory())
    return null;
  const identity = { name: `~${user}`, root, hosts: [], prefix: `/~${user}`, user };
  return buildSite(identity, config, {}, python);
}

/** A user's entry in the machine's accounts (lib/tenant/accounts.ts). */
export function passwdReader(): (user: string) => PasswdEntry | undefined {
  return (user) => machineAccounts().user(user);
}

/** The raw path below `site`'s prefix ("/~alice/x" → "/x"; "" when it is the prefix alone). */
export function pathInSite(site: Site, rawPath: string): string {
  return site.prefix === '' ? rawPath : rawPath.replace(USER_PATH, '');
}

/** A target resolved below a user folder, seen from the URL: SCRIPT_NAME and redirects get the prefix back. */
export function targetInSite(site: Site, target: Target): Target {
  if (site.prefix === '') return target;
  if (target.kind === 'script') return { ...target, scriptName: site.prefix + target.scriptName };
  if (target.kind === 'redirect') return { kind: 'redirect', location: site.prefix + target.location };
  return target;
}

/** /~alice without its slash: 301 to /~alice/, query kept. */
export function prefixRedirect(site: Site, rawQuery: string): Target {
  return {
    kind: 'redirect',
    location: `${site.prefix}/${rawQuery === '' ? '' : `?${encodeText(rawQuery, SAFE_QUERY)}`}`,
  };
}
