// pypages --check (as nginx -t, apachectl configtest): what a valid config
// may still get wrong, found without serving. The settings themselves were
// validated by lib/config/config.ts already (each bad one listed, and left
// out of the config checked here); here: every Python a site or a named
// group would run, every log file's folder, every .pypages.yaml under the
// roots (user folders' too) with every bad key of each, host names that two
// sites both claim. Every problem is listed, not only the first.
import { accessSync, constants, type Dirent, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/config.js';
import { findInterpreter } from '../groups/interpreter.js';
import { OVERRIDE_FILE, readOverrides } from './overrides.js';
import { sitesOf, type Site, type Sites } from './site.js';
import { parsePasswd } from '../tenant/accounts.js';
import { userSites } from './userdir.js';

/** Every problem of `config` (empty: it is fine), and its sites when its Python is usable. */
export async function checkConfig(config: Config): Promise<{ problems: string[]; sites: Sites | null }> {
  const problems: string[] = [];
  let python: string | null = null;
  try {
    python = (await findInterpreter(config.python)).path;
  } catch (err) {
    problems.push(`python: ${(err as Error).message}`);
  }
  // Without a usable Python the rest is still checked, with the setting's own text in its place.
  const server = python ?? (config.python || 'python3');
  const sites = sitesOf(config, server);
  for (const site of [...sites.all, ...userFolders(config, server)])
    problems.push(...(await sitePythons(site, server)), ...logFolders(site), ...folderFiles(site));
  problems.push(...sharedHosts(sites));
  return { problems, sites: python === null ? null : sites };
}

/** The user folders' sites (userdir), one per user of /etc/passwd who has one. */
function userFolders(config: Config, python: string): Site[] {
  if (!config.userdir) return [];
  let passwd: string;
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return [];
  }
  const siteOf = userSites(config, python);
  const names = new Set(parsePasswd(passwd).map((account) => account.name));
  return [...names].flatMap((user) => siteOf(`/~${user}/`) ?? []);
}

async function sitePythons(site: Site, server: string): Promise<string[]> {
  const specs = new Map<string, string>();
  if (site.python !== server) specs.set(`site ${site.name}: python`, site.python);
  for (const rule of site.groupRules)
    if (typeof rule.overrides.python === 'string' && rule.overrides.python)
      specs.set(`site ${site.name}: group ${rule.name}: python`, rule.overrides.python);
  const problems: string[] = [];
  for (const [where, spec] of specs) {
    try {
      await findInterpreter(spec);
    } catch (err) {
      problems.push(`${where}: ${(err as Error).message}`);
    }
  }
  return problems;
}

/** A log file's folder must exist and be writable (a user folder's {user} is checked when it is first used). */
function logFolders(site: Site): string[] {
  const problems: string[] = [];
  for (const [key, file] of [
    ['access-log', site.logs.access],
    ['error-log', site.logs.error],
  ]) {
    if (file === '-') continue;
    const folder = path.dirname(file);
    try {
      if (!statSync(folder).isDirectory()) throw new Error('not a folder');
      accessSync(folder, constants.W_OK);
    } catch (err) {
      problems.push(
        `site ${site.name}: ${key}: cannot write in ${folder} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
  }
  return problems;
}

const MAX_ENTRIES = 100_000; // a root this large is checked in part, and --check says so

/** Every .pypages.yaml under the site's root (not in virtualenvs or dot-folders), parsed as a request would. */
function folderFiles(site: Site): string[] {
  if (site.allowOverride.length === 0) return [];
  const problems: string[] = [];
  const folders = [site.root];
  let seen = 0;
  while (folders.length > 0 && seen < MAX_ENTRIES) {
    const folder = folders.pop()!;
    const entries = listing(folder);
    seen += entries.length;
    if (entries.some((e) => e.name === 'pyvenv.cfg')) continue;
    for (const e of entries) {
      if (e.isDirectory() && !e.name.startsWith('.')) folders.push(path.join(folder, e.name));
      if (e.isFile() && e.name === OVERRIDE_FILE) {
        const { problems: found } = readOverrides(path.join(folder, e.name), site.allowOverride);
        problems.push(...found.map((problem) => `site ${site.name}: ${problem}`));
      }
    }
  }
  if (seen >= MAX_ENTRIES)
    problems.push(`site ${site.name}: more than ${MAX_ENTRIES} files; ${OVERRIDE_FILE} files were checked in part`);
  return problems;
}

function listing(folder: string): Dirent[] {
  try {
    return readdirSync(folder, { withFileTypes: true });
  } catch {
    return []; // unreadable: requests cannot reach it either
  }
}

/** A host pattern listed by two sites goes to the first: almost always a copy-paste mistake. */
function sharedHosts(sites: Sites): string[] {
  const owner = new Map<string, string>();
  const problems: string[] = [];
  for (const site of sites.all)
    for (const host of site.hosts) {
      const first = owner.get(host);
      if (first) problems.push(`sites: host ${host} is listed by sites ${first} and ${site.name}; ${first} gets it`);
      else owner.set(host, site.name);
    }
  return problems;
}

/** The banner's lines about what is served: the config file, then each site with its hosts and root. */
export function describeSites(sites: Sites, config: Config): string[] {
  const lines = [`pypages: configuration: ${config.configFile ?? 'none (defaults and flags)'}`];
  for (const site of sites.all) {
    const hosts = site.hosts.length ? site.hosts.join(', ') : 'any other host';
    const fallback = site === sites.fallback && config.defaultSite !== 'reject' ? ' (default site)' : '';
    lines.push(`pypages: site ${site.name}${fallback}: ${hosts} → ${site.root}`);
  }
  if (config.defaultSite === 'reject') lines.push('pypages: any other host: 421 Misdirected Request');
  if (config.userdir) lines.push(`pypages: user folders: /~USER/ → ~USER/${config.userdir}`);
  if (sites.all.length === 1 && !config.userdir) return lines.slice(0, 1);
  return lines;
}
