// Which interpreter group a script belongs to, and how that group's
// processes are started. Named groups (groups:) are tried first, in order;
// then the grouping mode decides. A group is also split by interpreter: a
// script under a folder with .venv/ runs with that virtualenv's Python.
// Everything comes from the script's site: two sites never share a group
// (the registry keys groups by site, then by key).

import { dirname, join, relative, sep } from 'node:path';
import type { GroupSettingName, SettingValues } from '../config/settings.js';
import { folderEnvKey, type Site } from '../site/site.js';
import { machineAccounts, type Accounts } from '../tenant/accounts.js';
import { identityFor, startedAsRoot, tenantOf, type Identity } from '../tenant/identity.js';
import { nearestVenv, pythonOfSpec } from './venv.js';

export interface GroupSpec {
  readonly site: Site;
  readonly key: string; // identity within its site: same key, same group
  readonly label: string; // for logs and the status page
  readonly python: string;
  readonly processes: number;
  readonly threads: number;
  readonly pythonPath: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** Who its workers run as (lib/tenant/identity.ts); a refused group answers 500 without starting. */
  readonly identity: Identity;
  /** Its tenant: the user it runs as (started as root), else its site. */
  readonly tenant: string;
  /** The umask, per-worker kernel limits and tenant caps it was given. */
  readonly tenancy: Pick<SettingValues, TenancyName>;
}

/** The tenant settings a spec carries as they are. */
// biome-ignore format: a list read as a list
const TENANCY_NAMES = [
  'umask', 'limitMemory', 'limitCpu', 'limitProcesses', 'limitOpenFiles', 'limitFileSize',
  'tenantMemory', 'tenantCpu', 'tenantProcesses', 'tenantMaxWorkers', 'tenantMaxRequests',
] as const;
type TenancyName = (typeof TENANCY_NAMES)[number];

/** The per-group settings a spec is made of; python and preload are read apart. */
type Overridable = Pick<SettingValues, Exclude<GroupSettingName, 'python' | 'preload'>>;

/** The group of `script`, an absolute path inside `site.root`. A group's own `python` (a command or venv folder) is used as given. */
export function groupSpecFor(script: string, site: Site, machine: Machine = thisMachine()): GroupSpec {
  const rel = toUrlPath(relative(site.root, script));
  const rule = site.groupRules.find((r) => r.test(rel));
  const { preload: _preload, python: ownPython, ...overrides } = rule?.overrides ?? {};
  const { preload: _defaultPreload, ...defaults } = site.groupDefaults;
  const settings: Overridable = { ...defaults, ...overrides };
  const [base, label, anchor] = rule ? [`name:${rule.name}`, rule.name, site.root] : baseKey(script, rel, site);
  const own = typeof ownPython === 'string' && ownPython ? ownPython : null;
  const python = pythonFor(own, settings.venv, rule ? dirname(script) : anchor, site);
  const identity = identityOf(script, site, settings, machine);
  return {
    site,
    // Scripts of different owners, or of folders whose .pypages.yaml sets env, never share a process.
    key: `${base}|${python}|${identityKey(identity)}${folderEnvKey(site)}`,
    label,
    python,
    processes: settings.processes,
    threads: settings.threads,
    pythonPath: settings.pythonPath,
    env: { ...site.folderEnv, ...settings.env }, // the operator's variables win over a folder's
    // A shared group's processes start in the folder of the script that started the group (one cwd
    // per process: threads share it), so open("data.txt") works for it and for its folder's siblings.
    cwd: settings.cwd || dirname(script),
    identity,
    tenant: tenantOf(identity, site.name),
    tenancy: Object.fromEntries(TENANCY_NAMES.map((n) => [n, settings[n]])) as GroupSpec['tenancy'],
  };
}

/** The accounts to find users in, and whether users are switched at all (started as root). */
export interface Machine {
  readonly accounts: Accounts;
  readonly asRoot: boolean;
}

function thisMachine(): Machine {
  return { accounts: machineAccounts(), asRoot: startedAsRoot() };
}

function identityOf(script: string, site: Site, settings: Overridable, machine: Machine): Identity {
  const { user, group } = settings;
  const request = { user, group, allowRootPages: site.allowRootPages, script, siteUser: site.user };
  return identityFor(request, machine.accounts, machine.asRoot);
}

function identityKey(identity: Identity): string {
  return identity.kind === 'user' ? `${identity.runAs.uid}:${identity.runAs.gid}` : identity.kind;
}

/** [key, label, anchor folder] from the grouping mode. */
function baseKey(script: string, rel: string, site: Site): [string, string, string] {
  switch (site.grouping) {
    case 'per-folder': {
      const folder = dirname(script);
      return [`folder:${folder}`, `${toUrlPath(relative(site.root, folder))}/`, folder];
    }
    case 'global':
      return ['global', '(global)', site.root];
    default:
      return [`script:${script}`, rel, dirname(script)];
  }
}

/** The group's own python, else the nearest .venv above `from` (inside the root), else the site's. */
function pythonFor(own: string | null, venv: 'auto' | 'off', from: string, site: Site): string {
  if (own) return pythonOfSpec(own);
  return (venv === 'auto' && nearestVenv(from, site.root)) || site.python;
}

function toUrlPath(p: string): string {
  return p.split(sep).join('/');
}

/** Scripts of `site` to import at server start (absolute): its preload list, and each named group's. */
export function preloadTargets(site: Site): string[] {
  const fromRules = site.groupRules.flatMap((r) => (r.overrides.preload as readonly string[] | undefined) ?? []);
  return [...new Set([...site.groupDefaults.preload, ...fromRules])].map((p) => join(site.root, p));
}
