// The one table of pypages settings. Each setting is defined here once: its
// name, CLI flag, YAML key, default, validation and help text. CLI parsing,
// YAML validation, --help and the README table are all derived from SETTINGS.
import { GROUPS_ALLOWED, parseGroupRules, type GroupKeys, type GroupRule } from './group-rules.js';
import {
  ADDRESSES, addressList, boolean, CONFIG_FILE, configFile, DIRECTORY, directory, ENV, envMap, FILE_NAMES, fileNameList, integer,
  MODULES, moduleList, nonEmptyString, OPTIONAL_FILE, OPTIONAL_FOLDER, optionalFile, optionalFolder, oneOf, PATHS, pathList,
  PYTHON, pythonSpec, SCRIPTS, scriptList, seconds, size, URL_PATH, urlPath, type ValueContext,
} from './setting-parsers.js';

export { describe, InvalidValue, type ValueContext } from './setting-parsers.js';

/** The value of every setting, by name (Config adds `configFile`). */
export interface SettingValues {
  root: string;
  port: number;
  host: string;
  python: string;
  debug: boolean;
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
  healthPath: string;
  // HTTP
  maxBody: number;
  maxHeaderSize: number;
  clientTimeout: number;
  keepAliveTimeout: number;
  trustProxy: readonly string[];
  cert: string;
  key: string;
}



export interface Setting<T> {
  readonly name: string;
  /** `--port`; for the positional setting, its metavar (`DIR`); null for YAML-only settings. */
  readonly flag: string | null;
  readonly positional: boolean;
  /** Placeholder shown after the flag (`N`); null for a boolean switch. */
  readonly metavar: string | null;
  /** Key in pypages.yaml (kebab-case); null for CLI-only settings. */
  readonly yaml: string | null;
  readonly default: T;
  /** The default as shown in --help and the README. */
  readonly defaultText: string;
  /** What a valid value is, phrased to follow "must be". */
  readonly allowed: string;
  readonly help: string;
  /** Validates and normalises a raw CLI string or YAML value; throws InvalidValue. */
  readonly parse: (raw: unknown, ctx: ValueContext) => T;
}

type Table = { readonly [K in keyof SettingValues]: Setting<SettingValues[K]> } & {
  readonly config: Setting<string | null>;
};


export const DEFAULT_CONFIG_FILE = 'pypages.yaml';

export const SETTINGS: Table = {
  root: {
    name: 'root', flag: 'DIR', positional: true, metavar: 'DIR', yaml: 'root',
    default: 'www', defaultText: 'www',
    allowed: DIRECTORY,
    help: 'Document root to serve. On the command line relative to the current folder; in pypages.yaml relative to that file\'s folder.',
    parse: directory,
  },
  port: {
    name: 'port', flag: '--port', positional: false, metavar: 'N', yaml: 'port',
    default: 8000, defaultText: '8000',
    allowed: 'an integer from 0 to 65535',
    help: 'TCP port to listen on (0 picks a free port).',
    parse: integer(0, 65535),
  },
  host: {
    name: 'host', flag: '--host', positional: false, metavar: 'ADDR', yaml: 'host',
    default: '127.0.0.1', defaultText: '127.0.0.1',
    allowed: 'a non-empty string',
    help: 'Address to bind. The default accepts local connections only; use 0.0.0.0 to listen on every interface.',
    parse: nonEmptyString,
  },
  python: {
    name: 'python', flag: '--python', positional: false, metavar: 'PATH', yaml: 'python',
    default: '', defaultText: 'python3, then python, on PATH',
    allowed: PYTHON,
    help: 'Python interpreter to run pages with: a path, a command on PATH, or a virtualenv folder. Relative paths in pypages.yaml are relative to that file\'s folder.',
    parse: pythonSpec,
  },
  debug: {
    name: 'debug', flag: '--debug', positional: false, metavar: null, yaml: 'debug',
    default: false, defaultText: 'false',
    allowed: 'true or false',
    help: 'Debug mode: show tracebacks in the browser. Never enable on a public server.',
    parse: boolean,
  },
  index: {
    name: 'index', flag: '--index', positional: false, metavar: 'LIST', yaml: 'index',
    default: Object.freeze(['index.py', 'index.html']), defaultText: 'index.py,index.html',
    allowed: FILE_NAMES,
    help: 'Files that serve a folder URL, tried in order. Comma-separated on the command line; a list or a comma-separated string in pypages.yaml.',
    parse: fileNameList,
  },

  grouping: {
    name: 'grouping', flag: '--grouping', positional: false, metavar: 'MODE', yaml: 'grouping',
    default: 'per-script', defaultText: 'per-script',
    allowed: '"per-script", "per-folder" or "global"',
    help: 'Which scripts share an interpreter group (its processes, module state): each script its own (as mod_wsgi), one per folder, or one for all. Named groups (groups:) are chosen first.',
    parse: oneOf('per-script', 'per-folder', 'global'),
  },
  groups: {
    name: 'groups', flag: null, positional: false, metavar: null, yaml: 'groups',
    default: Object.freeze([]), defaultText: 'none',
    allowed: GROUPS_ALLOWED,
    help: 'Named groups, chosen by glob patterns over script paths (first match wins), each with its own processes, threads, python, python-path, env, cwd, preload and venv. See README "Interpreter groups".',
    parse: (raw, ctx) => parseGroupRules(raw, ctx, groupKeys()),
  },
  processes: {
    name: 'processes', flag: '--processes', positional: false, metavar: 'N', yaml: 'processes',
    default: 1, defaultText: '1',
    allowed: 'an integer from 1 to 64',
    help: 'Python processes per group; requests are balanced over them.',
    parse: integer(1, 64),
  },
  threads: {
    name: 'threads', flag: '--threads', positional: false, metavar: 'N', yaml: 'threads',
    default: 32, defaultText: '32',
    allowed: 'an integer from 1 to 512',
    help: 'Request threads per Python worker process (started as needed). 32 lets a page that waits (on a database, an API) serve 32 clients at once.',
    parse: integer(1, 512),
  },
  pythonPath: {
    name: 'pythonPath', flag: '--python-path', positional: false, metavar: 'DIRS', yaml: 'python-path',
    default: Object.freeze([]), defaultText: 'none',
    allowed: PATHS,
    help: 'Extra import folders, put on sys.path right after the script\'s own folder (which stays first). Comma-separated on the command line.',
    parse: pathList,
  },
  env: {
    name: 'env', flag: null, positional: false, metavar: null, yaml: 'env',
    default: Object.freeze({}), defaultText: 'none',
    allowed: ENV,
    help: 'Environment variables for the Python workers (added to the server\'s own).',
    parse: envMap,
  },
  cwd: {
    name: 'cwd', flag: '--cwd', positional: false, metavar: 'DIR', yaml: 'cwd',
    default: '', defaultText: 'the script\'s folder',
    allowed: OPTIONAL_FOLDER,
    help: 'Working directory of the Python workers. By default each runs in its script\'s folder (its first script\'s, for shared groups), so open("data.txt") works.',
    parse: optionalFolder,
  },
  preload: {
    name: 'preload', flag: '--preload', positional: false, metavar: 'SCRIPTS', yaml: 'preload',
    default: Object.freeze([]), defaultText: 'none',
    allowed: SCRIPTS,
    help: 'Scripts to import when the server starts instead of at their first request (their groups start then).',
    parse: scriptList,
  },
  venv: {
    name: 'venv', flag: '--venv', positional: false, metavar: 'MODE', yaml: 'venv',
    default: 'auto', defaultText: 'auto',
    allowed: '"auto" or "off"',
    help: 'auto: a script under a folder containing .venv/ runs with that virtualenv\'s Python (the nearest one inside the document root wins). off: always the configured python.',
    parse: oneOf('auto', 'off'),
  },
  idleTimeout: {
    name: 'idleTimeout', flag: '--idle-timeout', positional: false, metavar: 'SECONDS', yaml: 'idle-timeout',
    default: 300, defaultText: '300',
    allowed: 'a number of seconds from 0 to 86400',
    help: 'Stop a group\'s processes after this long without requests (0: never). The next request starts them again.',
    parse: seconds(0, 86400),
  },
  maxWorkers: {
    name: 'maxWorkers', flag: '--max-workers', positional: false, metavar: 'N', yaml: 'max-workers',
    default: 64, defaultText: '64',
    allowed: 'an integer from 1 to 10000',
    help: 'Cap on live Python worker processes. At the cap, the least recently used idle group is stopped to make room; a group with requests in flight never is.',
    parse: integer(1, 10000),
  },
  queueLimit: {
    name: 'queueLimit', flag: '--queue-limit', positional: false, metavar: 'N', yaml: 'queue-limit',
    default: 1000, defaultText: '1000',
    allowed: 'an integer from 0 to 100000',
    help: 'Requests a busy group may hold waiting; beyond it, 503 with Retry-After.',
    parse: integer(0, 100000),
  },
  queueTimeout: {
    name: 'queueTimeout', flag: '--queue-timeout', positional: false, metavar: 'SECONDS', yaml: 'queue-timeout',
    default: 30, defaultText: '30',
    allowed: 'a number of seconds from 0.01 to 3600',
    help: 'Longest a request waits for a free thread before it gets 503 with Retry-After.',
    parse: seconds(0.01, 3600),
  },
  requestTimeout: {
    name: 'requestTimeout', flag: '--request-timeout', positional: false, metavar: 'SECONDS', yaml: 'request-timeout',
    default: 60, defaultText: '60',
    allowed: 'a number of seconds from 0 to 86400',
    help: 'A request whose page runs longer gets 504; its worker\'s Python stacks go to the error log and the worker is replaced (0: no limit). Time spent waiting on a slow client is not counted.',
    parse: seconds(0, 86400),
  },
  maxRequests: {
    name: 'maxRequests', flag: '--max-requests', positional: false, metavar: 'N', yaml: 'max-requests',
    default: 0, defaultText: '0',
    allowed: 'an integer from 0 to 1000000000',
    help: 'Recycle a worker (gracefully) after this many requests (0: never).',
    parse: integer(0, 1e9),
  },
  maxRequestsJitter: {
    name: 'maxRequestsJitter', flag: '--max-requests-jitter', positional: false, metavar: 'N', yaml: 'max-requests-jitter',
    default: 0, defaultText: '0',
    allowed: 'an integer from 0 to 1000000000',
    help: 'Add a random 0..N to max-requests per worker, so a group\'s processes do not all recycle at once.',
    parse: integer(0, 1e9),
  },
  maxMemory: {
    name: 'maxMemory', flag: '--max-memory', positional: false, metavar: 'SIZE', yaml: 'max-memory',
    default: 0, defaultText: '0',
    allowed: 'a size in bytes from 0 to 1099511627776 (suffix K, M or G allowed)',
    help: 'Recycle a worker (gracefully) once its resident memory (RSS) exceeds this (0: no limit). Checked every few seconds.',
    parse: size(0, 1024 ** 4),
  },
  heartbeatTimeout: {
    name: 'heartbeatTimeout', flag: '--heartbeat-timeout', positional: false, metavar: 'SECONDS', yaml: 'heartbeat-timeout',
    default: 30, defaultText: '30',
    allowed: 'a number of seconds from 0 to 3600',
    help: 'A worker that has not answered a heartbeat for this long is hung: its stacks are logged and it is replaced (0: no heartbeat).',
    parse: seconds(0, 3600),
  },
  shutdownGrace: {
    name: 'shutdownGrace', flag: '--shutdown-grace', positional: false, metavar: 'SECONDS', yaml: 'shutdown-grace',
    default: 30, defaultText: '30',
    allowed: 'a number of seconds from 0 to 3600',
    help: 'On SIGTERM/SIGINT, how long requests in flight may take to finish before workers are stopped.',
    parse: seconds(0, 3600),
  },
  launch: {
    name: 'launch', flag: '--launch', positional: false, metavar: 'HOW', yaml: 'launch',
    default: 'fork', defaultText: 'fork',
    allowed: '"fork" or "spawn"',
    help: 'fork: start workers from a warm Python parent (fast, shares memory); spawn: a fresh interpreter each time. fork falls back to spawn where it cannot work.',
    parse: oneOf('fork', 'spawn'),
  },
  sharedPreload: {
    name: 'sharedPreload', flag: '--shared-preload', positional: false, metavar: 'MODULES', yaml: 'shared-preload',
    default: Object.freeze([]), defaultText: 'none',
    allowed: MODULES,
    help: 'Modules the warm parent imports once (e.g. flask), so every forked worker starts with them and shares their memory.',
    parse: moduleList,
  },
  statusPath: {
    name: 'statusPath', flag: '--status-path', positional: false, metavar: 'PATH', yaml: 'status-path',
    default: '', defaultText: 'off',
    allowed: URL_PATH,
    help: 'URL of the status page (groups, processes, requests, memory) in HTML, or JSON with ?json or Accept: application/json.',
    parse: urlPath,
  },
  statusAllow: {
    name: 'statusAllow', flag: '--status-allow', positional: false, metavar: 'ADDRS', yaml: 'status-allow',
    default: Object.freeze(['127.0.0.0/8', '::1']), defaultText: '127.0.0.0/8,::1',
    allowed: ADDRESSES,
    help: 'Who may see the status page; anyone else gets 404.',
    parse: addressList,
  },
  healthPath: {
    name: 'healthPath', flag: '--health-path', positional: false, metavar: 'PATH', yaml: 'health-path',
    default: '/-/health', defaultText: '/-/health',
    allowed: URL_PATH,
    help: 'URL answering 200 while the server accepts requests (503 while shutting down).',
    parse: urlPath,
  },
  maxBody: {
    name: 'maxBody', flag: '--max-body', positional: false, metavar: 'SIZE', yaml: 'max-body',
    default: 1024 ** 3, defaultText: '1G',
    allowed: 'a size in bytes from 0 to 1099511627776 (suffix K, M or G allowed)',
    help: 'Largest request body (0: no limit). One declared larger gets 413 before it reaches Python; a chunked one is stopped as it grows past it (413, or a closed connection if the page has answered).',
    parse: size(0, 1024 ** 4),
  },
  maxHeaderSize: {
    name: 'maxHeaderSize', flag: '--max-header-size', positional: false, metavar: 'SIZE', yaml: 'max-header-size',
    default: 16384, defaultText: '16K',
    allowed: 'a size in bytes from 1024 to 1048576 (suffix K, M or G allowed)',
    help: 'Largest request head (request line and headers); larger gets 431.',
    parse: size(1024, 1024 ** 2),
  },
  clientTimeout: {
    name: 'clientTimeout', flag: '--client-timeout', positional: false, metavar: 'SECONDS', yaml: 'client-timeout',
    default: 60, defaultText: '60',
    allowed: 'a number of seconds from 1 to 3600',
    help: 'How long a client may stay silent (as Apache\'s Timeout): a request head not complete in time gets 408; a body that sends nothing for this long gets 408 (or a closed connection if the answer started) and the page\'s read fails; a client that reads nothing of its answer for this long is disconnected. Counts time between bytes, so slow but moving transfers are never cut.',
    parse: seconds(1, 3600),
  },
  keepAliveTimeout: {
    name: 'keepAliveTimeout', flag: '--keep-alive-timeout', positional: false, metavar: 'SECONDS', yaml: 'keep-alive-timeout',
    default: 5, defaultText: '5',
    allowed: 'a number of seconds from 0 to 3600',
    help: 'How long an idle keep-alive connection is kept open waiting for the next request (0: close after each response).',
    parse: seconds(0, 3600),
  },
  trustProxy: {
    name: 'trustProxy', flag: '--trust-proxy', positional: false, metavar: 'ADDRS', yaml: 'trust-proxy',
    default: Object.freeze([]), defaultText: 'none',
    allowed: ADDRESSES,
    help: 'Proxies whose X-Forwarded-For/-Proto/-Host and Forwarded headers are believed; from anyone else they are ignored.',
    parse: addressList,
  },
  cert: {
    name: 'cert', flag: '--cert', positional: false, metavar: 'FILE', yaml: 'cert',
    default: '', defaultText: 'none',
    allowed: OPTIONAL_FILE,
    help: 'TLS certificate (PEM) to serve HTTPS; needs key.',
    parse: optionalFile,
  },
  key: {
    name: 'key', flag: '--key', positional: false, metavar: 'FILE', yaml: 'key',
    default: '', defaultText: 'none',
    allowed: OPTIONAL_FILE,
    help: 'TLS private key (PEM) for cert.',
    parse: optionalFile,
  },
  config: {
    name: 'config', flag: '--config', positional: false, metavar: 'FILE', yaml: null,
    default: null, defaultText: `${DEFAULT_CONFIG_FILE} in the current folder, if present`,
    allowed: CONFIG_FILE,
    help: 'YAML file of settings, using the yaml: keys listed here. Command-line flags override it.',
    parse: configFile,
  },
};

/** Every setting, in table order. */
export const SETTING_LIST: readonly Setting<unknown>[] = Object.values(SETTINGS);

/** The settings stored in Config (everything but `config`). */
export const VALUE_NAMES = Object.keys(SETTINGS).filter((name) => name !== 'config') as (keyof SettingValues)[];

/** Settings allowed in pypages.yaml, keyed by YAML key. */
export const YAML_SETTINGS: ReadonlyMap<string, Setting<unknown>> = new Map(
  SETTING_LIST.filter((s) => s.yaml !== null).map((s) => [s.yaml as string, s]),
);

/** The settings a named group may override, by YAML key. */
const GROUP_SETTING_NAMES = ['processes', 'threads', 'python', 'pythonPath', 'env', 'cwd', 'preload', 'venv'] as const;

function groupKeys(): GroupKeys {
  return new Map(GROUP_SETTING_NAMES.map((name) => {
    const s = SETTINGS[name] as Setting<unknown>;
    return [s.yaml as string, { name, parse: s.parse }];
  }));
}
