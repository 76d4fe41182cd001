// The settings of tenants on a shared host (README "Security model"): which
// user a group's workers run as when pypages is started as root, the limits
// the kernel holds each worker to, and the caps on a tenant as a whole. A
// tenant is the user a group's workers run as (started as root), else the
// site (lib/tenant/tenant.ts). Kept apart from ./settings.ts, which spreads
// them into the one table; the per-worker ones are per-group settings.
import { boolean, InvalidValue, integer, oneOf, seconds, size } from './setting-parsers.js';
import type { Entry } from './setting.js';

export interface TenantValues {
  serverUser: string;
  user: string;
  group: string;
  umask: number;
  allowRootPages: boolean;
  symlinks: 'auto' | 'owner-match' | 'follow';
  limitMemory: number;
  limitCpu: number;
  limitProcesses: number;
  limitOpenFiles: number;
  limitFileSize: number;
  tenantMemory: number;
  tenantCpu: number;
  tenantProcesses: number;
  tenantMaxWorkers: number;
  tenantMaxRequests: number;
}

/** The tenant settings a named group may set, besides its site (sites inherit all of them). */
// biome-ignore format: a list read as a list
export const TENANT_GROUP_SETTING_NAMES = [
  'user', 'group', 'umask', 'limitMemory', 'limitCpu', 'limitProcesses', 'limitOpenFiles', 'limitFileSize',
  'tenantMemory', 'tenantCpu', 'tenantProcesses', 'tenantMaxWorkers', 'tenantMaxRequests',
] as const;

/** The tenant settings a site may set for itself: the group ones, and these. */
export const TENANT_SITE_SETTING_NAMES = [...TENANT_GROUP_SETTING_NAMES, 'allowRootPages', 'symlinks'] as const;

const ACCOUNT = /^(?:[a-z_][\w.-]*\$?|\d+)$/i;
const USER = '"owner", a user name or a uid, or "" for the default (owner when started as root)';
const GROUP = 'a group name or a gid, or "" for the user\'s primary group';
const SERVER_USER = 'a user name or a uid, or "" for the default (www-data, else nobody)';

function account(allowed: string, owner: boolean): (raw: unknown) => string {
  return (raw) => {
    const s = typeof raw === 'number' && Number.isInteger(raw) ? String(raw) : raw;
    if (typeof s !== 'string') throw new InvalidValue(allowed, raw);
    const word = s.trim();
    if (word === '' || (owner && word === 'owner') || ACCOUNT.test(word)) return word;
    throw new InvalidValue(allowed, raw);
  };
}

/** An octal umask: "027", "0o077", or YAML's 0o27 read as a number (its octal digits are kept as written). */
function umask(raw: unknown): number {
  const allowed = UMASK;
  const text = typeof raw === 'number' ? raw.toString(8) : typeof raw === 'string' ? raw.trim() : '';
  const m = /^(?:0o?)?([0-7]{1,3})$/.exec(text);
  if (!m) throw new InvalidValue(allowed, raw);
  return Number.parseInt(m[1], 8);
}

const NONE = '0 (none)';
const SIZE = 'a size in bytes from 0 to 1125899906842624 (suffix K, M or G allowed)';
const memorySize = size(0, 2 ** 50);
const UMASK = 'an octal umask from 000 to 777 (e.g. "022", "077")';

// biome-ignore format: one setting per entry, its fields on the lines a reader scans
export const TENANT_ENTRIES: { readonly [K in keyof TenantValues]: Entry<TenantValues[K]> } = {
  serverUser: {
    metavar: 'USER', default: '', defaultText: 'www-data if that account exists, else nobody',
    allowed: SERVER_USER, parse: account(SERVER_USER, false),
    help: 'Started as root: the user the HTTP side (the server process that parses requests, sends files and talks to the workers) runs as, with no capabilities; a small root launcher in the supervisor starts the workers as their users. root keeps the HTTP side root (a banner warning says so). Not started as root: ignored.',
  },
  user: {
    metavar: 'USER', default: '', defaultText: 'owner when started as root, else the server\'s own',
    allowed: USER, parse: account(USER, true),
    help: 'Started as root: the user a group\'s workers run as. owner: the owner of the script (a shared group holds only scripts of one owner). Pages never run as root unless allow-root-pages. Not started as root: ignored, every page runs as the server\'s user.',
  },
  group: {
    metavar: 'GROUP', default: '', defaultText: 'the user\'s primary group',
    allowed: GROUP, parse: account(GROUP, false),
    help: 'Started as root: the group a group\'s workers run as; supplementary groups are always the user\'s own.',
  },
  umask: {
    metavar: 'MASK', default: 0o022, defaultText: '022',
    allowed: UMASK, parse: umask,
    help: 'The umask of the workers: the permissions files a page creates do not get (077: readable by their owner only).',
  },
  allowRootPages: {
    metavar: null, default: false, defaultText: 'false',
    allowed: 'true or false', parse: boolean,
    help: 'Started as root: let a page owned by root (or user: root) run as root. Without it such a page answers 500 and the reason is logged.',
  },
  symlinks: {
    metavar: 'MODE', default: 'auto', defaultText: 'auto',
    allowed: '"auto", "owner-match" or "follow"', parse: oneOf('auto', 'owner-match', 'follow'),
    help: 'owner-match: a file reached through a symlink is served (or run) only if the link and its target have the same owner, and a tenant\'s file only if its tenant owns it (as Apache\'s SymLinksIfOwnerMatch); else 404 and a log line. follow: any link inside the root. auto: owner-match when started as root.',
  },
  limitMemory: {
    metavar: 'SIZE', default: 0, defaultText: NONE,
    allowed: SIZE, parse: memorySize,
    help: 'Address space of each worker (RLIMIT_AS): past it, allocation fails with MemoryError in the page. max-memory\'s RSS check still applies.',
  },
  limitCpu: {
    metavar: 'SECONDS', default: 0, defaultText: NONE,
    allowed: 'a number of seconds from 0 to 10000000', parse: seconds(0, 10 ** 7),
    help: 'CPU seconds of each worker over its life (RLIMIT_CPU): past it the kernel ends the worker; its request answers 502 and a new worker starts.',
  },
  limitProcesses: {
    metavar: 'N', default: 0, defaultText: NONE,
    allowed: 'an integer from 0 to 1000000', parse: integer(0, 1_000_000),
    help: 'Processes and threads of the workers\' user, all together (RLIMIT_NPROC, counted per user by the kernel): a fork loop stops there.',
  },
  limitOpenFiles: {
    metavar: 'N', default: 0, defaultText: '0 (the server\'s)',
    allowed: 'an integer from 0 to 1048576', parse: integer(0, 1_048_576),
    help: 'Open files of each worker (RLIMIT_NOFILE).',
  },
  limitFileSize: {
    metavar: 'SIZE', default: 0, defaultText: NONE,
    allowed: SIZE, parse: memorySize,
    help: 'Largest file a worker may write (RLIMIT_FSIZE): a write past it fails in the page.',
  },
  tenantMemory: {
    metavar: 'SIZE', default: 0, defaultText: NONE,
    allowed: SIZE, parse: memorySize,
    help: 'Memory of all a tenant\'s workers together (a cgroup\'s memory limit, where cgroups are writable): past it the kernel ends one of them.',
  },
  tenantCpu: {
    metavar: 'PERCENT', default: 0, defaultText: NONE,
    allowed: 'an integer from 0 to 100000', parse: integer(0, 100_000),
    help: 'CPU of all a tenant\'s workers together, in percent of one core, 100 being one whole core (a cgroup\'s CPU quota).',
  },
  tenantProcesses: {
    metavar: 'N', default: 0, defaultText: NONE,
    allowed: 'an integer from 0 to 1000000', parse: integer(0, 1_000_000),
    help: 'Processes and threads of all a tenant\'s workers and their children (a cgroup\'s pids limit).',
  },
  tenantMaxWorkers: {
    metavar: 'N', default: 0, defaultText: '0 (only max-workers)',
    allowed: 'an integer from 0 to 100000', parse: integer(0, 100_000),
    help: 'Live worker processes of one tenant: a tenant with many scripts takes turns among these, never every slot of max-workers.',
  },
  tenantMaxRequests: {
    metavar: 'N', default: 0, defaultText: NONE,
    allowed: 'an integer from 0 to 1000000', parse: integer(0, 1_000_000),
    help: 'Requests of one tenant running or waiting at once; past it 503 with Retry-After, logged with the tenant.',
  },
};
