// The one table of pypages settings. Each setting is defined here once: its
// name, default, validation and help text; its command-line flag (--NAME)
// and its YAML key (NAME) are its name in kebab-case. CLI parsing, YAML
// validation, --help and the README table are all derived from SETTINGS.
import { DEFAULT_INDEX } from '../http/resolve.js';
import { GROUPS_ALLOWED, parseGroupRules, type GroupKeys, type GroupRule } from './group-rules.js';
import { CLIENT_ENTRIES, type ClientSettingValues } from './client-settings.js';
import { HOSTING_ENTRIES, SITE_SETTING_NAMES, sitesEntry, type HostingValues } from './hosting-settings.js';
// biome-ignore format: the parsers and their names, packed as the table below uses them
import {
  ADDRESSES, addressList, boolean, CONFIG_FILE, configFile, DIRECTORY, directory, ENV, envMap, FILE_NAMES, fileNameList, integer,
  devMode, MODULES, moduleList, nonEmptyString, OPTIONAL_FOLDER, optionalFolder, oneOf, PATHS, pathList,
  PYTHON, pythonSpec, SCRIPTS, scriptList, seconds, size, URL_PATH, urlPath,
} from './setting-parsers.js';
import { define, kebab, spoken, type Entry, type Setting } from './setting.js';
import { TENANT_ENTRIES, TENANT_GROUP_SETTING_NAMES, type TenantValues } from './tenant-settings.js';
import { TLS_ENTRIES, type TlsSettingValues } from './tls-settings.js';

export { describe, InvalidValue, type ValueContext } from './setting-parsers.js';
export { kebab, type Setting } from './setting.js';

/** The value of every setting, by name (Config adds `configFile`); clients', hosting's and TLS's are in their own files. */
export interface SettingValues extends ClientSettingValues, HostingValues, TlsSettingValues, TenantValues {
  root: string;
  port: number;
  host: string;
  python: string;
  debug: boolean;
  dev: boolean | 'auto';
  allowRemoteDev: boolean;
  index: readonly string[];
  // interpreter groups (see README "Interpreter groups")
  grouping: 'per-script' | 'per-folder' | 'global';
  groups: readonly GroupRule[];
  processes: number;
  threads: number;
  pythonPath: readonly string[];
  env: Readonly<Record<string, string>>;
  cwd: string;
  preload: readonly string[];
  venv: 'auto' | 'off';
  // lifecycle and limits
  idleTimeout: number;
  maxWorkers: number;
  queueLimit: number;
  queueTimeout: number;
  requestTimeout: number;
  maxRequests: number;
  maxRequestsJitter: number;
  maxMemory: number;
  heartbeatTimeout: number;
  shutdownGrace: number;
  launch: 'fork' | 'spawn';
  sharedPreload: readonly string[];
  // operators
  statusPath: string;
  statusAllow: readonly string[];
  metricsPath: string;
  healthPath: string;
  // HTTP
  compressPages: boolean;
  maxBody: number;
}

type Entries = { readonly [K in keyof SettingValues]: Entry<SettingValues[K]> } & {
  readonly config: Entry<string | null>;
};
type Table = { readonly [K in keyof SettingValues]: Setting<SettingValues[K]> } & {
  readonly config: Setting<string | null>;
};

export const DEFAULT_CONFIG_FILE = 'pypages.yaml';

/** The per-group settings: a named group (groups:) may override each of them. */
export const GROUP_SETTING_NAMES = [
  'processes',
  'threads',
  'python',
  'pythonPath',
  'env',
  'cwd',
  'preload',
  'venv',
  ...TENANT_GROUP_SETTING_NAMES,
] as const;
export type GroupSettingName = (typeof GROUP_SETTING_NAMES)[number];

// biome-ignore format: one setting per entry, its fields on the lines a reader scans
const ENTRIES: Entries = {
  root: {
    only: 'positional', metavar: 'DIR', default: 'www', defaultText: 'www',
    allowed: DIRECTORY, parse: directory,
    help: 'Document root to serve. On the command line relative to the current folder; in pypages.yaml relative to that file\'s folder.',
  },
  port: {
    metavar: 'N', default: 8000, defaultText: '8000',
    allowed: 'an integer from 0 to 65535', parse: integer(0, 65535),
    help: 'TCP port to listen on (0 picks a free port).',
  },
  host: {
    metavar: 'ADDR', default: '127.0.0.1', defaultText: '127.0.0.1',
    allowed: 'a non-empty string', parse: nonEmptyString,
    help: 'Address to bind. The default accepts local connections only; use 0.0.0.0 to listen on every interface.',
  },
  python: {
    metavar: 'PATH', default: '', defaultText: 'python3, then python, on PATH',
    allowed: PYTHON, parse: pythonSpec,
    help: 'Python interpreter to run pages with: a path, a command on PATH, or a virtualenv folder. Relative paths in pypages.yaml are relative to that file\'s folder.',
  },
  debug: {
    metavar: null, default: false, defaultText: 'false',
    allowed: 'true or false', parse: boolean,
    help: 'Debug mode: show tracebacks in the browser. Never enable on a public server.',
  },
  dev: {
    metavar: null, default: 'auto', defaultText: 'auto', allowed: 'true, false or "auto"', parse: devMode,
    help: 'Development mode: error pages that teach (your frames with source and variables, the request), every 404 of an existing file logged with why, a terminal line per request. auto: on when host is loopback and trust-proxy is empty (turn it off there with dev: false in pypages.yaml). Refused on other addresses unless allow-remote-dev.',
  },
  allowRemoteDev: { metavar: null, default: false, defaultText: 'false', allowed: 'true or false', parse: boolean,
    help: 'Let dev or debug mode run on an address other than loopback (anyone who can reach it then sees your code and variables). Without it, that is refused.' },
  index: {
    metavar: 'LIST', default: DEFAULT_INDEX, defaultText: DEFAULT_INDEX.join(','),
    allowed: FILE_NAMES, parse: fileNameList,
    help: 'Files that serve a folder URL, tried in order. Comma-separated on the command line; a list or a comma-separated string in pypages.yaml.',
  },
  grouping: {
    metavar: 'MODE', default: 'per-script', defaultText: 'per-script',
    allowed: '"per-script", "per-folder" or "global"', parse: oneOf('per-script', 'per-folder', 'global'),
    help: 'Which scripts share an interpreter group (its processes, module state): each script its own (as mod_wsgi), one per folder, or one for all. Named groups (groups:) are chosen first.',
  },
  groups: {
    only: 'yaml', metavar: null, default: Object.freeze([]), defaultText: 'none',
    allowed: GROUPS_ALLOWED, parse: (raw, ctx) => parseGroupRules(raw, ctx, groupKeys()),
    help: `Named groups, chosen by glob patterns over script paths (first match wins), each with its own ${spoken(GROUP_SETTING_NAMES.map(kebab))}. See README "Interpreter groups".`,
  },
  processes: {
    metavar: 'N', default: 1, defaultText: '1',
    allowed: 'an integer from 1 to 64', parse: integer(1, 64),
    help: 'Python processes per group; requests are balanced over them.',
  },
  threads: {
    metavar: 'N', default: 32, defaultText: '32',
    allowed: 'an integer from 1 to 512', parse: integer(1, 512),
    help: 'Request threads per Python worker process (started as needed). 32 lets a page that waits (on a database, an API) serve 32 clients at once.',
  },
  pythonPath: {
    metavar: 'DIRS', default: Object.freeze([]), defaultText: 'none',
    allowed: PATHS, parse: pathList,
    help: 'Extra import folders, put on sys.path right after the script\'s own folder (which stays first). Comma-separated on the command line.',
  },
  env: {
    only: 'yaml', metavar: null, default: Object.freeze({}), defaultText: 'none',
    allowed: ENV, parse: envMap,
    help: 'Environment variables for the Python workers (added to the server\'s own).',
  },
  cwd: {
    metavar: 'DIR', default: '', defaultText: 'the script\'s folder',
    allowed: OPTIONAL_FOLDER, parse: optionalFolder,
    help: 'Working directory of the Python workers. By default each runs in its script\'s folder (its first script\'s, for shared groups), so open("data.txt") works.',
  },
  preload: {
    metavar: 'SCRIPTS', default: Object.freeze([]), defaultText: 'none',
    allowed: SCRIPTS, parse: scriptList,
    help: 'Scripts to import when the server starts instead of at their first request (their groups start then).',
  },
  venv: {
    metavar: 'MODE', default: 'auto', defaultText: 'auto',
    allowed: '"auto" or "off"', parse: oneOf('auto', 'off'),
    help: 'auto: a script under a folder containing .venv/ runs with that virtualenv\'s Python (the nearest one inside the document root wins). off: always the configured python.',
  },
  idleTimeout: {
    metavar: 'SECONDS', default: 300, defaultText: '300',
    allowed: 'a number of seconds from 0 to 86400', parse: seconds(0, 86400),
    help: 'Stop a group\'s processes after this long without requests (0: never). The next request starts them again.',
  },
  maxWorkers: {
    metavar: 'N', default: 64, defaultText: '64',
    allowed: 'an integer from 1 to 10000', parse: integer(1, 10000),
    help: 'Cap on live Python worker processes. At the cap, the least recently used idle group is stopped to make room; when none is idle, a busy process gives up its slot after its requests in flight, in turns between tenants and between a tenant\'s groups.',
  },
  queueLimit: {
    metavar: 'N', default: 1000, defaultText: '1000',
    allowed: 'an integer from 0 to 100000', parse: integer(0, 100000),
    help: 'Requests a busy group may hold waiting; beyond it, 503 with Retry-After.',
  },
  queueTimeout: {
    metavar: 'SECONDS', default: 30, defaultText: '30',
    allowed: 'a number of seconds from 0.01 to 3600', parse: seconds(0.01, 3600),
    help: 'Longest a request waits for a free thread before it gets 503 with Retry-After.',
  },
  requestTimeout: {
    metavar: 'SECONDS', default: 60, defaultText: '60',
    allowed: 'a number of seconds from 0 to 86400', parse: seconds(0, 86400),
    help: 'A request whose page runs longer gets 504; its worker\'s Python stacks go to the error log and the worker is replaced (0: no limit). Time spent waiting on a slow client is not counted.',
  },
  maxRequests: {
    metavar: 'N', default: 0, defaultText: '0',
    allowed: 'an integer from 0 to 1000000000', parse: integer(0, 1e9),
    help: 'Recycle a worker (gracefully) after this many requests (0: never).',
  },
  maxRequestsJitter: {
    metavar: 'N', default: 0, defaultText: '0',
    allowed: 'an integer from 0 to 1000000000', parse: integer(0, 1e9),
    help: 'Add a random 0..N to max-requests per worker, so a group\'s processes do not all recycle at once.',
  },
  maxMemory: {
    metavar: 'SIZE', default: 0, defaultText: '0',
    allowed: 'a size in bytes from 0 to 1099511627776 (suffix K, M or G allowed)', parse: size(0, 1024 ** 4),
    help: 'Recycle a worker (gracefully) once its resident memory (RSS) exceeds this (0: no limit). Checked every few seconds.',
  },
  heartbeatTimeout: {
    metavar: 'SECONDS', default: 30, defaultText: '30',
    allowed: 'a number of seconds from 0 to 3600', parse: seconds(0, 3600),
    help: 'A worker that has not answered a heartbeat for this long is hung: its stacks are logged and it is replaced (0: no heartbeat).',
  },
  shutdownGrace: {
    metavar: 'SECONDS', default: 30, defaultText: '30',
    allowed: 'a number of seconds from 0 to 3600', parse: seconds(0, 3600),
    help: 'On SIGTERM/SIGINT, how long requests in flight may take to finish before workers are stopped.',
  },
  launch: {
    metavar: 'HOW', default: 'fork', defaultText: 'fork',
    allowed: '"fork" or "spawn"', parse: oneOf('fork', 'spawn'),
    help: 'fork: start workers from a warm Python parent (fast, shares memory); spawn: a fresh interpreter each time. fork falls back to spawn where it cannot work.',
  },
  sharedPreload: {
    metavar: 'MODULES', default: Object.freeze([]), defaultText: 'none',
    allowed: MODULES, parse: moduleList,
    help: 'Modules the warm parent imports once (e.g. flask), so every forked worker starts with them and shares their memory.',
  },
  statusPath: {
    metavar: 'PATH', default: '', defaultText: 'off',
    allowed: URL_PATH, parse: urlPath,
    help: 'URL of the status page (groups, processes, requests, memory) in HTML, or JSON with ?json or Accept: application/json.',
  },
  statusAllow: {
    metavar: 'ADDRS', default: Object.freeze(['127.0.0.0/8', '::1']), defaultText: '127.0.0.0/8,::1',
    allowed: ADDRESSES, parse: addressList,
    help: 'Who may see the status page and the metrics; anyone else gets 404.',
  },
  metricsPath: {
    metavar: 'PATH', default: '', defaultText: 'off',
    allowed: URL_PATH, parse: urlPath,
    help: 'URL of the Prometheus metrics (requests, latency, queues, workers per site and group; the process). Only for the addresses in status-allow.',
  },
  healthPath: {
    metavar: 'PATH', default: '/-/health', defaultText: '/-/health',
    allowed: URL_PATH, parse: urlPath,
    help: 'URL answering 200 while the server accepts requests (503 while shutting down).',
  },
  compressPages: {
    metavar: null, default: false, defaultText: 'false',
    allowed: 'true or false', parse: boolean,
    help: "Compress pages' answers (brotli or gzip, per Accept-Encoding) when their type is compressible (text, JSON, JS, SVG...), they are 1 KiB or more and set no Content-Encoding. Static files are always compressed so.",
  },
  maxBody: {
    metavar: 'SIZE', default: 1024 ** 3, defaultText: '1G',
    allowed: 'a size in bytes from 0 to 1099511627776 (suffix K, M or G allowed)', parse: size(0, 1024 ** 4),
    help: 'Largest request body (0: no limit). One declared larger gets 413 before it reaches Python; a chunked one is stopped as it grows past it (413, or a closed connection if the page has answered).',
  },
  ...CLIENT_ENTRIES,
  ...HOSTING_ENTRIES,
  sites: sitesEntry(() => settingKeys(SITE_SETTING_NAMES)),
  ...TLS_ENTRIES,
  ...TENANT_ENTRIES,
  config: {
    only: 'cli', metavar: 'FILE', default: null, defaultText: `${DEFAULT_CONFIG_FILE} in the current folder, if present`,
    allowed: CONFIG_FILE, parse: configFile,
    help: 'YAML file of settings, using the yaml: keys listed here. Command-line flags override it.',
  },
};

export const SETTINGS: Table = Object.fromEntries(
  Object.entries(ENTRIES as Record<string, Entry<unknown>>).map(([name, entry]) => [name, define(name, entry)]),
) as unknown as Table;

/** Every setting, in table order. */
export const SETTING_LIST: readonly Setting<unknown>[] = Object.values(SETTINGS);

/** The settings stored in Config (everything but `config`). */
export const VALUE_NAMES = Object.keys(SETTINGS).filter((name) => name !== 'config') as (keyof SettingValues)[];

/** Settings allowed in pypages.yaml, keyed by YAML key. */
export const YAML_SETTINGS: ReadonlyMap<string, Setting<unknown>> = new Map(
  SETTING_LIST.filter((s) => s.yaml !== null).map((s) => [s.yaml as string, s]),
);

/** The per-group settings a named group may set: YAML key → (name, parser). */
function groupKeys(): GroupKeys {
  return settingKeys(GROUP_SETTING_NAMES);
}

/** The settings `names`, as a named group or a site may set them: YAML key → (name, parser). */
export function settingKeys(names: readonly (keyof SettingValues)[]): GroupKeys {
  return new Map(
    names.map((name) => {
      const s = SETTINGS[name] as Setting<unknown>;
      return [s.yaml as string, { name, parse: s.parse }];
    }),
  );
}
