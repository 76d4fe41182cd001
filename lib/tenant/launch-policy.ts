// What the root launcher (server/launcher.ts) will do for a server
// child that gave up root. The child is the part of pypages that parses
// untrusted bytes, so the launcher treats its every request as possibly a
// compromised one's, and decides from what root itself read (the config the
// launcher parsed, /etc/passwd), never from what the child says:
//
// - Users. A process runs as uid 0 only if allow-root-pages is set in the
//   launcher's own reading of the config (at the top or for a site); never as the
//   server-user (a page running as it could trace the server child), never
//   as a system account (uid outside UID_MIN..UID_MAX of /etc/login.defs,
//   1000..60000 on Debian, as suEXEC's AP_UID_MIN; nobody is 65534) unless
//   the config names it as a `user:`. Its groups are the account's own,
//   looked up here, less the system groups (below GID_MIN or above GID_MAX:
//   shadow, adm, docker, sudo...) the config does not name: a compromised
//   child must not reach /etc/shadow through a tenant that happens to be in
//   group shadow. A `group:` other than the account's primary group must be
//   in range or named, and never gid 0 nor the server-user's group.
// - Code. A tenant process (uid not named by the config) is told, in a
//   variable the child cannot override, to import only files and folders
//   its own user or root owns and nobody else may write
//   (lib/python/pypages_worker/owner.py), as suEXEC runs only a script its
//   target owns: else a compromised child could have any tenant run a file
//   it wrote. Its working folder is entered after the switch
//   (lib/tenant/launch-line.ts), so it is one the tenant may reach.
// - Environment. The child's variables reach setpriv and sh, which run as
//   root before the switch: those the loader, libc and sh read (LD_*,
//   GLIBC_TUNABLES, PATH, glibc's unsecvars...) and those Python reads at
//   start (PYTHON*: PYTHONHOME, PYTHONSTARTUP... would run code of the
//   child's choice as the tenant; so would HOME, whose user site-packages'
//   .pth files run at start, and OPENSSL_CONF, which loads a module when
//   the worker imports hashlib) pass only with a value the operator's
//   config gives.
// - Signals and sweeps. Only to a live process whose uids are all one the
//   policy allows (root's only with allow-root-pages and this child's
//   instance mark), never pid 1, the supervisor, the server nor the launcher.
import { lstatSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/config.js';
import { DEFAULT_CONFIG_FILE } from '../config/settings.js';
import type { Accounts } from './accounts.js';
import type { RunAs } from './identity.js';

/**
 * Variables read by the dynamic loader, glibc, setpriv or sh while they run as root (glibc's unsecvars.h and
 * more), by Python as the tenant before its worker checks anything, or by the programs a page may run
 * (git, perl, node, sh, less...) as code to run. The same list is lib/python/pypages_worker/owner.py's
 * VETTED, which a tenant's fork server holds a forked worker's variables to (test/unit/tenant/launch-policy.test.ts
 * checks they match). A denylist: a variable a program reads that no list names can still be set.
 */
// biome-ignore format: a list read as a list
export const VETTED = new RegExp(`^(LD_|MALLOC_|(${[
  'PATH', 'GLIBC_TUNABLES', 'GCONV_PATH', 'GETCONF_DIR', 'HOSTALIASES', 'LOCALDOMAIN', 'LOCPATH', 'NIS_PATH',
  'NLSPATH', 'RESOLV_HOST_CONF', 'RES_OPTIONS', 'TMPDIR', 'TZDIR', 'ENV', 'BASH_ENV', 'IFS', 'PYTHON\\w*',
  // Read as the tenant before owner.py can check a file: HOME names the user's site-packages, whose .pth
  // files Python runs at start; OPENSSL_CONF loads a module (.so) when the worker imports hashlib;
  // _PYTHON_SYSCONFIGDATA_NAME is a module sysconfig imports; BROWSER is run by a preloaded antigravity.
  'HOME', 'OPENSSL_\\w+', '_PYTHON\\w*', 'BROWSER',
  // Code run by the programs a page starts: git's hooks and config, perl's and ruby's -M, node's --require...
  'GIT_\\w+', 'XDG_\\w+', 'NODE_OPTIONS', 'NODE_PATH', 'PERL\\w*', 'RUBY\\w*', 'JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS',
  'SHELLOPTS', 'BASHOPTS', 'PS4', 'PROMPT_COMMAND', 'LESSOPEN', 'LESSCLOSE',
].join('|')})$)`);

export interface LaunchPolicy {
  readonly allowRoot: boolean;
  readonly serverUid: number;
  readonly serverGid: number;
  readonly uidMin: number;
  readonly uidMax: number;
  readonly gidMin: number;
  readonly gidMax: number;
  /** uids and gids the config names (user:, group:): allowed below the minimum. */
  readonly namedUids: ReadonlySet<number>;
  readonly namedGids: ReadonlySet<number>;
  /** NAME=value of the root-read variables the operator's config sets. */
  readonly operatorEnv: ReadonlySet<string>;
}

/** The policy for a server child running as `server`, from the config root read. */
export function policyOf(config: Config, server: { uid: number; gid: number }, accounts: Accounts): LaunchPolicy {
  const scopes: Readonly<Record<string, unknown>>[] = [
    config as unknown as Readonly<Record<string, unknown>>,
    ...config.sites.map((s) => s.values),
    ...config.groups.map((g) => g.overrides),
  ];
  const named = (key: string, find: (name: string) => number | undefined) =>
    new Set(scopes.flatMap((s) => (typeof s[key] === 'string' && s[key] ? [find(s[key] as string) ?? -1] : [])));
  const env = scopes.flatMap((s) => Object.entries((s.env ?? {}) as Record<string, string>));
  const defs = loginDefs();
  return {
    allowRoot: scopes.slice(0, config.sites.length + 1).some((s) => s.allowRootPages === true),
    serverUid: server.uid,
    serverGid: server.gid,
    uidMin: defs.UID_MIN ?? 1000,
    uidMax: defs.UID_MAX ?? 60000,
    gidMin: defs.GID_MIN ?? 1000,
    gidMax: defs.GID_MAX ?? 60000,
    namedUids: named('user', (n) => accounts.user(n)?.uid),
    namedGids: named('group', (n) => accounts.group(n)?.gid),
    operatorEnv: new Set(env.filter(([k]) => VETTED.test(k)).map(([k, v]) => `${k}=${v}`)),
  };
}

/** The user to start a process as: null for root (if allowed), or the refusal's reason. */
export function userFor(
  user: { uid: number; gid: number } | null,
  policy: LaunchPolicy,
  accounts: Accounts,
): { runAs: RunAs | null } | { refused: string } {
  if (user === null) return policy.allowRoot ? { runAs: null } : { refused: 'root, without allow-root-pages' };
  const { uid, gid } = user;
  const account = accounts.user(uid);
  const why = uidRefusal(uid, policy) ?? (account ? gidRefusal(gid, account.gid, policy) : `uid ${uid}: no such user`);
  if (why !== null || !account) return { refused: why ?? '' };
  const groups = accounts.groupsOf(account).filter((g) => g === gid || !gidRefusal(g, gid, policy));
  return { runAs: { user: account.name, uid, gid, groups, home: account.home } };
}

/** Read once by lib/python/pypages_worker/owner.py at a worker's (or fork server's) start. */
export const OWNER_VARIABLE = 'PYPAGES_OWNER_ONLY';

/** The value of OWNER_VARIABLE for a process as `uid`: whose files it may import (lib/python/pypages_worker/owner.py); null when the config names the user. */
export function ownerRule(uid: number, policy: LaunchPolicy): string | null {
  return policy.namedUids.has(uid) ? null : `${uid} ${policy.serverGid}`;
}

/** Why a process may not run as (or be signalled as) `uid`; null if it may. uid 0 is for the caller to judge. */
export function uidRefusal(uid: number, policy: LaunchPolicy): string | null {
  if (!Number.isInteger(uid) || uid <= 0) return `uid ${uid}: not a tenant`;
  if (uid === policy.serverUid) return `uid ${uid}: the server-user's own`;
  if ((uid < policy.uidMin || uid > policy.uidMax) && !policy.namedUids.has(uid))
    return `uid ${uid}: a system account (outside ${policy.uidMin}..${policy.uidMax}) that no user: setting names`;
  return null;
}

function gidRefusal(gid: number, primary: number, policy: LaunchPolicy): string | null {
  if (!Number.isInteger(gid) || gid <= 0) return `gid ${gid}: root's group`;
  if (gid === policy.serverGid) return `gid ${gid}: the server-user's group`;
  if (gid !== primary && (gid < policy.gidMin || gid > policy.gidMax) && !policy.namedGids.has(gid))
    return `gid ${gid}: a system group (outside ${policy.gidMin}..${policy.gidMax}) that no group: setting names`;
  return null;
}

/** The variables of `env` refused (names), or the empty list. */
export function refusedEnv(env: Readonly<Record<string, unknown>>, policy: LaunchPolicy): string[] {
  return Object.entries(env)
    .filter(([k, v]) => typeof v !== 'string' || /[=\0]/.test(k) || k === '' || v.includes('\0') || unvetted(k, v))
    .map(([k]) => k);
  function unvetted(k: string, v: string): boolean {
    return VETTED.test(k) && !policy.operatorEnv.has(`${k}=${v}`);
  }
}

type LoginDefs = { UID_MIN?: number; UID_MAX?: number; GID_MIN?: number; GID_MAX?: number };

/** The ranges of /etc/login.defs, where it says. */
function loginDefs(file = '/etc/login.defs'): LoginDefs {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {}
  const value = (key: string) => {
    const m = new RegExp(`^\\s*${key}\\s+(\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  return { UID_MIN: value('UID_MIN'), UID_MAX: value('UID_MAX'), GID_MIN: value('GID_MIN'), GID_MAX: value('GID_MAX') };
}

/**
 * The real path of `file` if root may run it to probe it: a python* that only
 * root can change (it, and every folder down to it, owned by root and not
 * writable by others, a sticky folder like /tmp excepted); else null. The
 * name that counts is the real file's: a link named python3 to perl (or od)
 * would have root run `perl -c PROBE_SCRIPT`, which runs the BEGIN blocks of
 * a file of that name in the working folder. Run by anyone else, the probe
 * is the server child's, as server-user.
 */
export function rootTrusted(file: string): string | null {
  try {
    const real = realpathSync(file);
    return /^python[\d.]*$/.test(path.basename(real)) && rootOnly(real) ? real : null;
  } catch {
    return null;
  }
}

/** Whether only root (or `uid`) can change `real` (a real path): it and every folder down to it theirs, not writable by others (sticky folders excepted). */
function rootOnly(real: string, uid = 0): boolean {
  for (let at = real; ; at = path.dirname(at)) {
    const st = statSync(at);
    const writable = (st.mode & 0o022) !== 0 && !(st.isDirectory() && (st.mode & 0o1000) !== 0);
    if ((st.uid !== 0 && st.uid !== uid) || writable) return false;
    if (path.dirname(at) === at) return true;
  }
}

/** The only command lines the launcher starts: a worker or a fork server, by pypages' own module, with no option before it. */
const ENTRIES = [
  ['-u', '-m', 'pypages_worker'],
  ['-u', '-m', 'pypages_worker.forkserver'],
];

/**
 * Why the launcher may not run `python args` as `uid` (0: root), or null: the
 * program must be a Python (by its real name) that only root or that user can
 * change (a tenant's own venv), and the line one of ENTRIES: anything else
 * (`-c`, another module, /bin/sh) would run the child's code as the tenant.
 */
export function programRefusal(python: string, args: readonly string[], uid: number): string | null {
  if (!ENTRIES.some((e) => e.every((a, i) => args[i] === a)))
    return `not a pypages worker's command line: ${args.slice(0, 3).join(' ')}`;
  try {
    const real = realpathSync(python);
    if (/^python[\d.]*$/.test(path.basename(real)) && rootOnly(real, uid)) return null;
  } catch {}
  return `${python}: not a Python that only root or uid ${uid} can change`;
}

/**
 * Why root must not take its policy from the config `configFile` (null: none,
 * pypages.yaml is then looked for in `cwd`), or null: the file, or the folder
 * it is looked for in, can be changed by someone other than root. A server
 * child (or tenant) that can write there could give itself allow-root-pages,
 * or have the supervisor hand it any file as a log file, by the next read (a
 * SIGHUP, a restart of the child, or the child's own 'reread').
 */
export function configRefusal(configFile: string | null, cwd: string): string | null {
  const file = path.resolve(cwd, configFile ?? DEFAULT_CONFIG_FILE);
  const lexical = [file, ...ancestors(file)].filter((at) => lstatSync(at, { throwIfNoEntry: false }));
  const real = lexical.map((at) => realpathSync(at));
  const bad = [...lexical.filter((at) => !rootOwnedLink(at)), ...real.filter((at) => !rootOnly(at))];
  return bad.length
    ? `the config ${file} (or a folder it is looked for in, ${bad[0]}) can be changed by another user than root: ` +
        "make them root's and not writable by others, or start pypages elsewhere (cd /) with --config"
    : null;
}

function ancestors(file: string): string[] {
  const up: string[] = [];
  for (let at = path.dirname(file); ; at = path.dirname(at)) {
    up.push(at);
    if (path.dirname(at) === at) return up;
  }
}

/** A component that is not a link, or a link root made (only root may then replace it, its folder being checked too). */
function rootOwnedLink(at: string): boolean {
  const st = lstatSync(at);
  return !st.isSymbolicLink() || st.uid === 0;
}
