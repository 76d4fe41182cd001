import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, makeConfig, parseCli, type Config } from '../../../lib/config/config.js';
import { helpText, markdownTable } from '../../../lib/config/help.js';
import { GROUPS_ALLOWED } from '../../../lib/config/group-rules.js';
import {
  SETTINGS,
  SETTING_LIST,
  VALUE_NAMES,
  YAML_SETTINGS,
  type SettingValues,
} from '../../../lib/config/settings.js';

const repo = path.resolve(import.meta.dirname, '../../..');
let cwd: string;

beforeEach(() => {
  cwd = realpathSync(mkdtempSync(path.join(tmpdir(), 'pypages-config-')));
  mkdirSync(path.join(cwd, 'www'));
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

function write(rel: string, text: string): string {
  const file = path.join(cwd, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

function run(argv: string[]): Config {
  const result = parseCli(argv, cwd);
  if (result.kind !== 'run') throw new Error(`expected run, got ${result.kind}`);
  return result.config;
}

function fail(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Replaces "/CWD" at the start of every string in `value` with the test's cwd. */
function inCwd<T>(value: T): T {
  return JSON.parse(JSON.stringify(value), (_, v: unknown) =>
    typeof v === 'string' && v.startsWith('/CWD') ? cwd + v.slice(4) : v,
  ) as T;
}

/** A Config as plain data: group rules without their test function (checked separately). */
function plain(config: Config): Record<string, unknown> {
  return { ...config, groups: config.groups.map(({ name, match, overrides }) => ({ name, match, overrides })) };
}

/** Every setting in table order: flag, metavar, YAML key, default and how the default is shown. */
/** state-dir's default: under $XDG_STATE_HOME, else ~/.local/state. */
const STATE_DIR_DEFAULT = path.join(process.env.XDG_STATE_HOME || path.join(homedir(), '.local', 'state'), 'pypages');

const TABLE: {
  name: string;
  flag: string | null;
  metavar: string | null;
  yaml: string | null;
  default: unknown;
  defaultText: string;
}[] = [
  { name: 'root', flag: 'DIR', metavar: 'DIR', yaml: 'root', default: 'www', defaultText: 'www' },
  { name: 'port', flag: '--port', metavar: 'N', yaml: 'port', default: 8000, defaultText: '8000' },
  { name: 'host', flag: '--host', metavar: 'ADDR', yaml: 'host', default: '127.0.0.1', defaultText: '127.0.0.1' },
  {
    name: 'python',
    flag: '--python',
    metavar: 'PATH',
    yaml: 'python',
    default: '',
    defaultText: 'python3, then python, on PATH',
  },
  { name: 'debug', flag: '--debug', metavar: null, yaml: 'debug', default: false, defaultText: 'false' },
  { name: 'dev', flag: '--dev', metavar: null, yaml: 'dev', default: 'auto', defaultText: 'auto' },
  {
    name: 'allowRemoteDev',
    flag: '--allow-remote-dev',
    metavar: null,
    yaml: 'allow-remote-dev',
    default: false,
    defaultText: 'false',
  },
  {
    name: 'index',
    flag: '--index',
    metavar: 'LIST',
    yaml: 'index',
    default: ['index.py', 'index.html'],
    defaultText: 'index.py,index.html',
  },
  {
    name: 'grouping',
    flag: '--grouping',
    metavar: 'MODE',
    yaml: 'grouping',
    default: 'per-script',
    defaultText: 'per-script',
  },
  { name: 'groups', flag: null, metavar: null, yaml: 'groups', default: [], defaultText: 'none' },
  { name: 'processes', flag: '--processes', metavar: 'N', yaml: 'processes', default: 1, defaultText: '1' },
  { name: 'threads', flag: '--threads', metavar: 'N', yaml: 'threads', default: 32, defaultText: '32' },
  { name: 'pythonPath', flag: '--python-path', metavar: 'DIRS', yaml: 'python-path', default: [], defaultText: 'none' },
  { name: 'env', flag: null, metavar: null, yaml: 'env', default: {}, defaultText: 'none' },
  { name: 'cwd', flag: '--cwd', metavar: 'DIR', yaml: 'cwd', default: '', defaultText: "the script's folder" },
  { name: 'preload', flag: '--preload', metavar: 'SCRIPTS', yaml: 'preload', default: [], defaultText: 'none' },
  { name: 'venv', flag: '--venv', metavar: 'MODE', yaml: 'venv', default: 'auto', defaultText: 'auto' },
  {
    name: 'idleTimeout',
    flag: '--idle-timeout',
    metavar: 'SECONDS',
    yaml: 'idle-timeout',
    default: 300,
    defaultText: '300',
  },
  { name: 'maxWorkers', flag: '--max-workers', metavar: 'N', yaml: 'max-workers', default: 64, defaultText: '64' },
  { name: 'queueLimit', flag: '--queue-limit', metavar: 'N', yaml: 'queue-limit', default: 1000, defaultText: '1000' },
  {
    name: 'queueTimeout',
    flag: '--queue-timeout',
    metavar: 'SECONDS',
    yaml: 'queue-timeout',
    default: 30,
    defaultText: '30',
  },
  {
    name: 'requestTimeout',
    flag: '--request-timeout',
    metavar: 'SECONDS',
    yaml: 'request-timeout',
    default: 60,
    defaultText: '60',
  },
  { name: 'maxRequests', flag: '--max-requests', metavar: 'N', yaml: 'max-requests', default: 0, defaultText: '0' },
  {
    name: 'maxRequestsJitter',
    flag: '--max-requests-jitter',
    metavar: 'N',
    yaml: 'max-requests-jitter',
    default: 0,
    defaultText: '0',
  },
  { name: 'maxMemory', flag: '--max-memory', metavar: 'SIZE', yaml: 'max-memory', default: 0, defaultText: '0' },
  {
    name: 'heartbeatTimeout',
    flag: '--heartbeat-timeout',
    metavar: 'SECONDS',
    yaml: 'heartbeat-timeout',
    default: 30,
    defaultText: '30',
  },
  {
    name: 'shutdownGrace',
    flag: '--shutdown-grace',
    metavar: 'SECONDS',
    yaml: 'shutdown-grace',
    default: 30,
    defaultText: '30',
  },
  { name: 'launch', flag: '--launch', metavar: 'HOW', yaml: 'launch', default: 'fork', defaultText: 'fork' },
  {
    name: 'sharedPreload',
    flag: '--shared-preload',
    metavar: 'MODULES',
    yaml: 'shared-preload',
    default: [],
    defaultText: 'none',
  },
  { name: 'statusPath', flag: '--status-path', metavar: 'PATH', yaml: 'status-path', default: '', defaultText: 'off' },
  {
    name: 'statusAllow',
    flag: '--status-allow',
    metavar: 'ADDRS',
    yaml: 'status-allow',
    default: ['127.0.0.0/8', '::1'],
    defaultText: '127.0.0.0/8,::1',
  },
  {
    name: 'metricsPath',
    flag: '--metrics-path',
    metavar: 'PATH',
    yaml: 'metrics-path',
    default: '',
    defaultText: 'off',
  },
  {
    name: 'healthPath',
    flag: '--health-path',
    metavar: 'PATH',
    yaml: 'health-path',
    default: '/-/health',
    defaultText: '/-/health',
  },
  {
    name: 'compressPages',
    flag: '--compress-pages',
    metavar: null,
    yaml: 'compress-pages',
    default: false,
    defaultText: 'false',
  },
  { name: 'maxBody', flag: '--max-body', metavar: 'SIZE', yaml: 'max-body', default: 1024 ** 3, defaultText: '1G' },
  {
    name: 'maxHeaderSize',
    flag: '--max-header-size',
    metavar: 'SIZE',
    yaml: 'max-header-size',
    default: 16384,
    defaultText: '16K',
  },
  {
    name: 'maxHeaderFields',
    flag: '--max-header-fields',
    metavar: 'N',
    yaml: 'max-header-fields',
    default: 100,
    defaultText: '100',
  },
  {
    name: 'clientTimeout',
    flag: '--client-timeout',
    metavar: 'SECONDS',
    yaml: 'client-timeout',
    default: 60,
    defaultText: '60',
  },
  {
    name: 'keepAliveTimeout',
    flag: '--keep-alive-timeout',
    metavar: 'SECONDS',
    yaml: 'keep-alive-timeout',
    default: 5,
    defaultText: '5',
  },
  {
    name: 'trustProxy',
    flag: '--trust-proxy',
    metavar: 'ADDRS',
    yaml: 'trust-proxy',
    default: [],
    defaultText: 'none',
  },
  { name: 'cert', flag: '--cert', metavar: 'FILE', yaml: 'cert', default: '', defaultText: 'none' },
  { name: 'key', flag: '--key', metavar: 'FILE', yaml: 'key', default: '', defaultText: 'none' },
  {
    name: 'deny',
    flag: '--deny',
    metavar: 'GLOBS',
    yaml: 'deny',
    default: [],
    defaultText: 'none (the built-in denials hold)',
  },
  {
    name: 'defaultSite',
    flag: '--default-site',
    metavar: 'NAME',
    yaml: 'default-site',
    default: 'default',
    defaultText: "default (the root's own site)",
  },
  { name: 'userdir', flag: '--userdir', metavar: 'FOLDER', yaml: 'userdir', default: '', defaultText: 'off' },
  {
    name: 'userdirMinUid',
    flag: '--userdir-min-uid',
    metavar: 'UID',
    yaml: 'userdir-min-uid',
    default: 1000,
    defaultText: '1000',
  },
  {
    name: 'userdirAllow',
    flag: '--userdir-allow',
    metavar: 'USERS',
    yaml: 'userdir-allow',
    default: [],
    defaultText: 'everyone',
  },
  {
    name: 'userdirDeny',
    flag: '--userdir-deny',
    metavar: 'USERS',
    yaml: 'userdir-deny',
    default: [],
    defaultText: 'none',
  },
  {
    name: 'allowOverride',
    flag: '--allow-override',
    metavar: 'KEYS',
    yaml: 'allow-override',
    default: [],
    defaultText: 'none (.pypages.yaml files are ignored)',
  },
  {
    name: 'accessLog',
    flag: '--access-log',
    metavar: 'FILE',
    yaml: 'access-log',
    default: '-',
    defaultText: '- (stdout)',
  },
  {
    name: 'accessLogFormat',
    flag: '--access-log-format',
    metavar: 'FORMAT',
    yaml: 'access-log-format',
    default: 'combined',
    defaultText: 'combined',
  },
  {
    name: 'errorLog',
    flag: '--error-log',
    metavar: 'FILE',
    yaml: 'error-log',
    default: '-',
    defaultText: '- (stderr)',
  },
  { name: 'sites', flag: null, metavar: null, yaml: 'sites', default: [], defaultText: 'none: one site, the root' },
  {
    name: 'tls',
    flag: '--tls',
    metavar: 'MODE',
    yaml: 'tls',
    default: 'off',
    defaultText: 'off (HTTPS from cert and key when they are given)',
  },
  { name: 'httpPort', flag: '--http-port', metavar: 'N', yaml: 'http-port', default: 80, defaultText: '80' },
  {
    name: 'redirectHttp',
    flag: '--redirect-http',
    metavar: null,
    yaml: 'redirect-http',
    default: false,
    defaultText: 'false',
  },
  {
    name: 'acmeDirectory',
    flag: '--acme-directory',
    metavar: 'URL',
    yaml: 'acme-directory',
    default: 'https://acme-v02.api.letsencrypt.org/directory',
    defaultText: "Let's Encrypt",
  },
  { name: 'acmeEmail', flag: '--acme-email', metavar: 'ADDR', yaml: 'acme-email', default: '', defaultText: 'none' },
  { name: 'acmeCa', flag: '--acme-ca', metavar: 'FILE', yaml: 'acme-ca', default: '', defaultText: "the system's" },
  {
    name: 'acmeRenewBefore',
    flag: '--acme-renew-before',
    metavar: 'SECONDS',
    yaml: 'acme-renew-before',
    default: 2592000,
    defaultText: '2592000 (30 days)',
  },
  {
    name: 'stateDir',
    flag: '--state-dir',
    metavar: 'DIR',
    yaml: 'state-dir',
    default: STATE_DIR_DEFAULT,
    defaultText: '$XDG_STATE_HOME/pypages or ~/.local/state/pypages',
  },
  // biome-ignore format: one row per setting
  ...([
    ['serverUser', 'USER', '', 'www-data if that account exists, else nobody'],
    ['user', 'USER', '', "owner when started as root, else the server's own"],
    ['group', 'GROUP', '', "the user's primary group"],
    ['umask', 'MASK', 0o022, '022'],
    ['allowRootPages', null, false, 'false'],
    ['symlinks', 'MODE', 'auto', 'auto'],
    ['limitMemory', 'SIZE', 0, '0 (none)'],
    ['limitCpu', 'SECONDS', 0, '0 (none)'],
    ['limitProcesses', 'N', 0, '0 (none)'],
    ['limitOpenFiles', 'N', 0, "0 (the server's)"],
    ['limitFileSize', 'SIZE', 0, '0 (none)'],
    ['tenantMemory', 'SIZE', 0, '0 (none)'],
    ['tenantCpu', 'PERCENT', 0, '0 (none)'],
    ['tenantProcesses', 'N', 0, '0 (none)'],
    ['tenantMaxWorkers', 'N', 0, '0 (only max-workers)'],
    ['tenantMaxRequests', 'N', 0, '0 (none)'],
  ] as const).map(([name, metavar, value, defaultText]) => {
    const yaml = name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    return { name, flag: `--${yaml}`, metavar, yaml, default: value, defaultText };
  }),
  {
    name: 'config',
    flag: '--config',
    metavar: 'FILE',
    yaml: null,
    default: null,
    defaultText: 'pypages.yaml in the current folder, if present',
  },
];

const VALUE_NAMES_TEXT = TABLE.filter((t) => t.name !== 'config')
  .map((t) => t.name)
  .join(', ');
const YAML_KEYS = TABLE.filter((t) => t.yaml !== null).map((t) => t.yaml as string);
const ALLOWED_KEYS = YAML_KEYS.join(', ');

/** The Config run([]) gives in an empty folder with www/ ("/CWD" stands for cwd). */
const DEFAULTS = {
  root: '/CWD/www',
  port: 8000,
  host: '127.0.0.1',
  python: '',
  debug: false,
  dev: 'auto',
  allowRemoteDev: false,
  index: ['index.py', 'index.html'],
  grouping: 'per-script',
  groups: [],
  processes: 1,
  threads: 32,
  pythonPath: [],
  env: {},
  cwd: '',
  preload: [],
  venv: 'auto',
  idleTimeout: 300,
  maxWorkers: 64,
  queueLimit: 1000,
  queueTimeout: 30,
  requestTimeout: 60,
  maxRequests: 0,
  maxRequestsJitter: 0,
  maxMemory: 0,
  heartbeatTimeout: 30,
  shutdownGrace: 30,
  launch: 'fork',
  sharedPreload: [],
  statusPath: '',
  statusAllow: ['127.0.0.0/8', '::1'],
  metricsPath: '',
  healthPath: '/-/health',
  compressPages: false,
  maxBody: 1073741824,
  maxHeaderSize: 16384,
  maxHeaderFields: 100,
  clientTimeout: 60,
  keepAliveTimeout: 5,
  trustProxy: [],
  cert: '',
  key: '',
  deny: [],
  defaultSite: 'default',
  userdir: '',
  userdirMinUid: 1000,
  userdirAllow: [],
  userdirDeny: [],
  allowOverride: [],
  accessLog: '-',
  accessLogFormat: 'combined',
  errorLog: '-',
  sites: [],
  tls: 'off',
  httpPort: 80,
  redirectHttp: false,
  acmeDirectory: 'https://acme-v02.api.letsencrypt.org/directory',
  acmeEmail: '',
  acmeCa: '',
  acmeRenewBefore: 2592000,
  stateDir: STATE_DIR_DEFAULT,
  serverUser: '',
  user: '',
  group: '',
  umask: 0o022,
  allowRootPages: false,
  symlinks: 'auto',
  limitMemory: 0,
  limitCpu: 0,
  limitProcesses: 0,
  limitOpenFiles: 0,
  limitFileSize: 0,
  tenantMemory: 0,
  tenantCpu: 0,
  tenantProcesses: 0,
  tenantMaxWorkers: 0,
  tenantMaxRequests: 0,
  configFile: null,
};

describe('settings table', () => {
  it('has every setting with its flag, metavar, YAML key and default, in order', () => {
    expect(
      SETTING_LIST.map(({ name, flag, metavar, yaml, defaultText, ...s }) => ({
        name,
        flag,
        metavar,
        yaml,
        default: s.default,
        defaultText,
      })),
    ).toEqual(TABLE);
    expect(Object.keys(SETTINGS)).toEqual(TABLE.map((t) => t.name));
    for (const s of SETTING_LIST) expect(SETTINGS[s.name as keyof typeof SETTINGS]).toBe(s);
  });

  it('derives flags and YAML keys from names (kebab-case)', () => {
    for (const s of SETTING_LIST) {
      if (s.positional) expect(s.flag).toMatch(/^[A-Z]+$/);
      else if (s.flag !== null) expect(s.flag).toBe(`--${kebab(s.name)}`);
      if (s.yaml !== null) expect(s.yaml).toBe(kebab(s.name));
      expect(s.positional).toBe(s.name === 'root');
      expect(s.help.length).toBeGreaterThan(10);
      expect(s.allowed.length).toBeGreaterThan(3);
    }
  });

  it('has env, groups and sites as the only YAML-only settings (no flag, no metavar)', () => {
    const yamlOnly = SETTING_LIST.filter((s) => s.flag === null);
    expect(yamlOnly.map((s) => s.name)).toEqual(['groups', 'env', 'sites']);
    for (const s of yamlOnly) {
      expect(s.metavar).toBeNull();
      expect(s.yaml).toBe(s.name);
    }
  });

  it('freezes list and mapping defaults', () => {
    for (const s of SETTING_LIST) {
      if (s.default !== null && typeof s.default === 'object') expect(Object.isFrozen(s.default), s.name).toBe(true);
    }
  });

  it('has a YAML key for every Config value and only config is CLI-only', () => {
    expect([...YAML_SETTINGS.values()].map((s) => s.name)).toEqual(VALUE_NAMES);
    expect(SETTING_LIST.filter((s) => s.yaml === null).map((s) => s.name)).toEqual(['config']);
  });

  it('has defaults that pass their own validation', () => {
    for (const name of VALUE_NAMES.filter((n) => n !== 'root')) {
      const s = SETTINGS[name];
      expect(s.parse(s.default as never, { from: 'default', base: cwd })).toEqual(s.default);
    }
  });
});

describe('defaults', () => {
  it('uses every default when given nothing', () => {
    const config = run([]);
    expect(config.root).toBe(path.join(cwd, 'www'));
    expect(config.configFile).toBeNull();
    for (const name of VALUE_NAMES.filter((n) => n !== 'root')) expect(config[name]).toEqual(SETTINGS[name].default);
    expect(config).toEqual(inCwd(DEFAULTS));
    expect(Object.keys(config).sort()).toEqual([...VALUE_NAMES, 'configFile'].sort());
  });

  it('reports a missing default root with how to give one', () => {
    rmSync(path.join(cwd, 'www'), { recursive: true });
    const err = fail(() => run([]));
    expect(err.key).toBe('root');
    expect(err.file).toBeNull();
    expect(err.message).toContain(`root: must be an existing directory (got ${JSON.stringify(path.join(cwd, 'www'))}`);
    expect(err.message).toContain('pypages DIR');
  });
});

describe('command-line flags', () => {
  it.each<[string[], Partial<Config>]>([
    [['--port', '8080'], { port: 8080 }],
    [['--port=0'], { port: 0 }],
    [['--port', '65535'], { port: 65535 }],
    [['--host', '0.0.0.0'], { host: '0.0.0.0' }],
    [['--host', '::1'], { host: '::1' }],
    [['--python', '/usr/bin/python3'], { python: '/usr/bin/python3' }],
    [['--python', 'python3.12'], { python: 'python3.12' }],
    [['--python', ''], { python: '' }],
    [['--debug'], { debug: true }],
    [['--index', 'main.py'], { index: ['main.py'] }],
    [['--index', ' a.py , b.html ,'], { index: ['a.py', 'b.html'] }],
    [['--threads', '1'], { threads: 1 }],
    [['--threads=512'], { threads: 512 }],
    [['--port', '1', '--port', '2'], { port: 2 }],
    [['--grouping', 'per-folder'], { grouping: 'per-folder' }],
    [['--grouping=global'], { grouping: 'global' }],
    [['--processes', '1'], { processes: 1 }],
    [['--processes', '64'], { processes: 64 }],
    [['--python-path', 'lib, /opt/shared'], { pythonPath: ['/CWD/lib', '/opt/shared'] }],
    [['--cwd', 'www'], { cwd: '/CWD/www' }],
    [['--preload', './app.py,blog/index.py'], { preload: ['app.py', 'blog/index.py'] }],
    [['--venv', 'off'], { venv: 'off' }],
    [['--idle-timeout', '0'], { idleTimeout: 0 }],
    [['--idle-timeout', '0.25'], { idleTimeout: 0.25 }],
    [['--idle-timeout', '86400'], { idleTimeout: 86400 }],
    [['--max-workers', '1'], { maxWorkers: 1 }],
    [['--max-workers', '10000'], { maxWorkers: 10000 }],
    [['--queue-limit', '0'], { queueLimit: 0 }],
    [['--queue-limit', '100000'], { queueLimit: 100000 }],
    [['--queue-timeout', '0.01'], { queueTimeout: 0.01 }],
    [['--queue-timeout', '3600'], { queueTimeout: 3600 }],
    [['--request-timeout', '0'], { requestTimeout: 0 }],
    [['--request-timeout', '1.5'], { requestTimeout: 1.5 }],
    [['--max-requests', '1000000000'], { maxRequests: 1e9 }],
    [['--max-requests-jitter', '50'], { maxRequestsJitter: 50 }],
    [['--max-memory', '512M'], { maxMemory: 512 * 1024 ** 2 }],
    [['--max-memory', '1.5G'], { maxMemory: 1.5 * 1024 ** 3 }],
    [['--max-memory', '1024G'], { maxMemory: 1024 ** 4 }],
    [['--heartbeat-timeout', '0'], { heartbeatTimeout: 0 }],
    [['--shutdown-grace', '0.5'], { shutdownGrace: 0.5 }],
    [['--launch', 'spawn'], { launch: 'spawn' }],
    [['--shared-preload', 'flask, django.conf'], { sharedPreload: ['flask', 'django.conf'] }],
    [['--status-path', '/-/status'], { statusPath: '/-/status' }],
    [['--status-allow', '10.0.0.0/8,fe80::/10'], { statusAllow: ['10.0.0.0/8', 'fe80::/10'] }],
    [['--health-path', '/healthz'], { healthPath: '/healthz' }],
    [['--max-body', '0'], { maxBody: 0 }],
    [['--max-body', '10M'], { maxBody: 10 * 1024 ** 2 }],
    [['--max-header-size', '1K'], { maxHeaderSize: 1024 }],
    [['--max-header-size', '1M'], { maxHeaderSize: 1024 ** 2 }],
    [['--max-header-size', '8192'], { maxHeaderSize: 8192 }],
    [['--max-header-fields', '2000'], { maxHeaderFields: 2000 }],
    [['--trust-proxy', '127.0.0.1, ::1'], { trustProxy: ['127.0.0.1', '::1'] }],
  ])('%j', (argv, expected) => {
    expect(run(argv)).toMatchObject(inCwd(expected));
  });

  it('accepts "" where it means none or off, and rejects it everywhere else', () => {
    const meaningful: Record<string, unknown> = {
      '--python': '',
      '--python-path': [],
      '--cwd': '',
      '--preload': [],
      '--shared-preload': [],
      '--status-path': '',
      '--status-allow': [],
      '--metrics-path': '',
      '--health-path': '',
      '--trust-proxy': [],
      '--cert': '',
      '--key': '',
      '--deny': [],
      '--userdir': '',
      '--userdir-allow': [],
      '--userdir-deny': [],
      '--allow-override': [],
      '--acme-email': '',
      '--acme-ca': '',
      '--server-user': '',
      '--user': '',
      '--group': '',
    };
    const flags = SETTING_LIST.filter((x) => x.metavar !== null && !x.positional);
    for (const flag of Object.keys(meaningful)) expect(flags.map((f) => f.flag)).toContain(flag);
    for (const s of flags) {
      if (s.flag! in meaningful) {
        expect(run([`${s.flag}=`])[s.name as keyof Config]).toEqual(meaningful[s.flag!]);
      } else {
        const err = fail(() => run([`${s.flag}=`]));
        expect(err.message).toBe(`${s.flag}: must be ${s.allowed} (got "")`);
        expect(err.key).toBe(s.flag);
      }
    }
  });

  it('takes DIR relative to cwd, absolute, after --, and stores the realpath', () => {
    mkdirSync(path.join(cwd, 'site'));
    symlinkSync(path.join(cwd, 'site'), path.join(cwd, 'link'));
    expect(run(['site']).root).toBe(path.join(cwd, 'site'));
    expect(run([path.join(cwd, 'site')]).root).toBe(path.join(cwd, 'site'));
    expect(run(['--', 'site']).root).toBe(path.join(cwd, 'site'));
    expect(run(['link']).root).toBe(path.join(cwd, 'site'));
    expect(run(['--port', '1', 'site', '--debug'])).toMatchObject({
      root: path.join(cwd, 'site'),
      port: 1,
      debug: true,
    });
  });

  it('resolves a --python path or existing folder against cwd, leaves commands alone', () => {
    mkdirSync(path.join(cwd, 'venv'));
    expect(run(['--python', 'venv']).python).toBe(path.join(cwd, 'venv'));
    expect(run(['--python', './bin/python3']).python).toBe(path.join(cwd, 'bin/python3'));
    expect(run(['--python', 'python3']).python).toBe('python3');
  });

  it('reads --config relative to cwd', () => {
    const file = write('conf/x.yaml', 'port: 1234\n');
    expect(run(['--config', 'conf/x.yaml'])).toMatchObject({ port: 1234, configFile: file });
  });

  it.each<[string[], string, string]>([
    [['--port', 'abc'], '--port', '--port: must be an integer from 0 to 65535 (got "abc")'],
    [['--port', '-1'], '--port', '--port: must be an integer from 0 to 65535 (got "-1")'],
    [['--port', '65536'], '--port', '--port: must be an integer from 0 to 65535 (got "65536")'],
    [['--port', '80.5'], '--port', '--port: must be an integer from 0 to 65535 (got "80.5")'],
    [['--port='], '--port', '--port: must be an integer from 0 to 65535 (got "")'],
    [['--host', ''], '--host', '--host: must be a non-empty string (got "")'],
    [['--host', '  '], '--host', '--host: must be a non-empty string (got "  ")'],
    [['--index', ''], '--index', `--index: must be ${SETTINGS.index.allowed} (got "")`],
    [['--index', 'a/b.py'], '--index', `--index: must be ${SETTINGS.index.allowed} (got "a/b.py")`],
    [['--index', 'a.py,.hidden'], '--index', `--index: must be ${SETTINGS.index.allowed} (got "a.py,.hidden")`],
    [['--threads', '0'], '--threads', '--threads: must be an integer from 1 to 512 (got "0")'],
    [['--threads', '513'], '--threads', '--threads: must be an integer from 1 to 512 (got "513")'],
    [['--threads', 'many'], '--threads', '--threads: must be an integer from 1 to 512 (got "many")'],
    [
      ['--grouping', 'per-file'],
      '--grouping',
      '--grouping: must be "per-script", "per-folder" or "global" (got "per-file")',
    ],
    [['--processes', '0'], '--processes', '--processes: must be an integer from 1 to 64 (got "0")'],
    [['--processes', '65'], '--processes', '--processes: must be an integer from 1 to 64 (got "65")'],
    [['--preload', '/abs.py'], '--preload', `--preload: must be ${SETTINGS.preload.allowed} (got "/abs.py")`],
    [['--preload', '../up.py'], '--preload', `--preload: must be ${SETTINGS.preload.allowed} (got "../up.py")`],
    [['--preload', 'app.txt'], '--preload', `--preload: must be ${SETTINGS.preload.allowed} (got "app.txt")`],
    [['--venv', 'on'], '--venv', '--venv: must be "auto" or "off" (got "on")'],
    [
      ['--idle-timeout', '-1'],
      '--idle-timeout',
      '--idle-timeout: must be a number of seconds from 0 to 86400 (got "-1")',
    ],
    [
      ['--idle-timeout', '5m'],
      '--idle-timeout',
      '--idle-timeout: must be a number of seconds from 0 to 86400 (got "5m")',
    ],
    [['--max-workers', '0'], '--max-workers', '--max-workers: must be an integer from 1 to 10000 (got "0")'],
    [['--queue-limit', '100001'], '--queue-limit', '--queue-limit: must be an integer from 0 to 100000 (got "100001")'],
    [
      ['--queue-timeout', '0'],
      '--queue-timeout',
      '--queue-timeout: must be a number of seconds from 0.01 to 3600 (got "0")',
    ],
    [
      ['--request-timeout', '86401'],
      '--request-timeout',
      '--request-timeout: must be a number of seconds from 0 to 86400 (got "86401")',
    ],
    [
      ['--max-requests', '1.5'],
      '--max-requests',
      '--max-requests: must be an integer from 0 to 1000000000 (got "1.5")',
    ],
    [
      ['--max-requests-jitter', '-1'],
      '--max-requests-jitter',
      '--max-requests-jitter: must be an integer from 0 to 1000000000 (got "-1")',
    ],
    [['--max-memory', '1T'], '--max-memory', `--max-memory: must be ${SETTINGS.maxMemory.allowed} (got "1T")`],
    [['--max-memory', '1025G'], '--max-memory', `--max-memory: must be ${SETTINGS.maxMemory.allowed} (got "1025G")`],
    [
      ['--heartbeat-timeout', '3601'],
      '--heartbeat-timeout',
      '--heartbeat-timeout: must be a number of seconds from 0 to 3600 (got "3601")',
    ],
    [
      ['--shutdown-grace', 'soon'],
      '--shutdown-grace',
      '--shutdown-grace: must be a number of seconds from 0 to 3600 (got "soon")',
    ],
    [['--launch', 'exec'], '--launch', '--launch: must be "fork" or "spawn" (got "exec")'],
    [
      ['--shared-preload', 'flask-login'],
      '--shared-preload',
      `--shared-preload: must be ${SETTINGS.sharedPreload.allowed} (got "flask-login")`,
    ],
    [
      ['--status-path', 'status'],
      '--status-path',
      '--status-path: must be a URL path starting with "/", or "" for off (got "status")',
    ],
    [
      ['--status-allow', 'localhost'],
      '--status-allow',
      `--status-allow: must be ${SETTINGS.statusAllow.allowed} (got "localhost")`,
    ],
    [
      ['--status-allow', '10.0.0.0/33'],
      '--status-allow',
      `--status-allow: must be ${SETTINGS.statusAllow.allowed} (got "10.0.0.0/33")`,
    ],
    [
      ['--health-path', '/a b'],
      '--health-path',
      '--health-path: must be a URL path starting with "/", or "" for off (got "/a b")',
    ],
    [['--max-body', '-1'], '--max-body', `--max-body: must be ${SETTINGS.maxBody.allowed} (got "-1")`],
    [
      ['--max-header-size', '1023'],
      '--max-header-size',
      `--max-header-size: must be ${SETTINGS.maxHeaderSize.allowed} (got "1023")`,
    ],
    [
      ['--max-header-size', '2M'],
      '--max-header-size',
      `--max-header-size: must be ${SETTINGS.maxHeaderSize.allowed} (got "2M")`,
    ],
    [
      ['--max-header-fields', '2001'],
      '--max-header-fields',
      `--max-header-fields: must be ${SETTINGS.maxHeaderFields.allowed} (got "2001")`,
    ],
    [
      ['--trust-proxy', '::1/129'],
      '--trust-proxy',
      `--trust-proxy: must be ${SETTINGS.trustProxy.allowed} (got "::1/129")`,
    ],
    [
      ['--idle-timeout'],
      '--idle-timeout',
      '--idle-timeout: needs a value: --idle-timeout SECONDS, where SECONDS is a number of seconds from 0 to 86400',
    ],
    [
      ['--max-body', '--debug'],
      '--max-body',
      `--max-body: needs a value: --max-body SIZE, where SIZE is ${SETTINGS.maxBody.allowed}`,
    ],
    [['--debug=yes'], '--debug', '--debug: takes no value (got "yes")'],
    [['--port'], '--port', '--port: needs a value: --port N, where N is an integer from 0 to 65535'],
    [['--port', '--debug'], '--port', '--port: needs a value: --port N, where N is an integer from 0 to 65535'],
    [['--config'], '--config', '--config: needs a value: --config FILE, where FILE is an existing YAML file'],
    [['a', 'b'], 'DIR', 'expected at most one DIR (root), got 2: a b'],
  ])('rejects %j', (argv, key, message) => {
    const err = fail(() => run(argv));
    expect(err.message).toBe(message);
    expect(err.key).toBe(key);
    expect(err.file).toBeNull();
  });

  it('rejects a DIR that is missing or a file, naming the full path', () => {
    write('file.txt', 'x');
    for (const dir of ['nope', 'file.txt']) {
      const err = fail(() => run([dir]));
      expect(err.message).toBe(`DIR: must be an existing directory (got ${JSON.stringify(path.join(cwd, dir))})`);
      expect(err.key).toBe('DIR');
    }
  });

  it.each([
    ['--prot', '"--prot" (did you mean --port?)'],
    ['--verbose', '"--verbose"'],
    ['-x', '"-x"'],
    ['--treads', '"--treads" (did you mean --threads?)'],
    ['--max_body', '"--max_body" (did you mean --max-body?)'],
    ['--shared-preloads', '"--shared-preloads" (did you mean --shared-preload?)'],
    ['--groups', '"--groups"'],
  ])('rejects the unknown option %s, pointing to --help', (flag, named) => {
    const err = fail(() => run([flag, '1']));
    expect(err.message).toContain(`unknown option ${named}`);
    expect(err.message).toContain('--help');
    expect(err.key).toBe(flag);
  });

  it.each(['--env', '--groups', '--env=A=1', '--groups=x'])(
    'has no flag for YAML-only settings: %s is an unknown option',
    (arg) => {
      const err = fail(() => run([arg]));
      const flag = arg.split('=')[0];
      expect(err.message).toMatch(
        new RegExp(`^unknown option "${flag}"( \\(did you mean --\\S+\\?\\))?; see pypages --help$`),
      );
      expect(err.key).toBe(flag);
      expect(err.file).toBeNull();
    },
  );

  it('resolves --cwd, --python-path, --cert and --key against cwd', () => {
    write('tls/c.pem', 'cert');
    write('tls/k.pem', 'key');
    mkdirSync(path.join(cwd, 'data'));
    expect(run(['--cwd', 'data', '--python-path', 'lib', '--cert', 'tls/c.pem', '--key', './tls/k.pem'])).toMatchObject(
      {
        cwd: path.join(cwd, 'data'),
        pythonPath: [path.join(cwd, 'lib')],
        cert: path.join(cwd, 'tls/c.pem'),
        key: path.join(cwd, 'tls/k.pem'),
      },
    );
  });

  it.each([
    ['--cwd', 'nowhere', 'a folder, or "" for the script\'s own folder'],
    ['--cwd', 'file.txt', 'a folder, or "" for the script\'s own folder'],
    ['--cert', 'missing.pem', 'an existing file, or "" for none'],
    ['--cert', 'www', 'an existing file, or "" for none'],
    ['--key', 'missing.pem', 'an existing file, or "" for none'],
  ])('rejects %s %s, naming the full path', (flag, value, allowed) => {
    write('file.txt', 'x');
    const err = fail(() => run([flag, value]));
    expect(err.message).toBe(`${flag}: must be ${allowed} (got ${JSON.stringify(path.join(cwd, value))})`);
    expect(err.key).toBe(flag);
  });

  it('reports an explicit --config that does not exist', () => {
    const err = fail(() => run(['--config', 'missing.yaml']));
    expect(err.key).toBe('--config');
    expect(err.message).toBe(
      `--config: must be an existing YAML file (got ${JSON.stringify(path.join(cwd, 'missing.yaml'))})`,
    );
    mkdirSync(path.join(cwd, 'adir'));
    expect(fail(() => run(['--config', 'adir'])).message).toContain('adir');
  });
});

describe('help and version', () => {
  it.each([['--help'], ['-h'], ['--port', 'abc', '--help'], ['--nonsense', '-h']])('%j prints help', (...argv) => {
    const result = parseCli(argv, cwd);
    expect(result.kind).toBe('help');
  });

  it('lists every setting: its flag, metavar, YAML key, default and help', () => {
    const text = helpText();
    for (const s of SETTING_LIST) {
      expect(text).toContain(
        s.flag === null
          ? '(pypages.yaml only)'
          : s.metavar === null || s.positional
            ? s.flag
            : `${s.flag} ${s.metavar}`,
      );
      if (s.yaml !== null) expect(text).toContain(`yaml: ${s.yaml}`);
      expect(text.replace(/\s+/g, ' ')).toContain(`default: ${s.defaultText}`);
      expect(text.replace(/\s+/g, ' ')).toContain(s.help);
    }
    expect(text).toContain('--help');
    expect(text).toContain('--version');
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
  });

  it('heads each setting with its usage; YAML-only settings say "(pypages.yaml only)"', () => {
    // Blocks: a line indented by two spaces (the usage), then lines indented by six (help, then the parenthesis).
    const blocks = helpText()
      .split('\n')
      .reduce<{ head: string; body: string }[]>((out, line) => {
        if (/^ {2}\S/.test(line)) out.push({ head: line.trim(), body: '' });
        else if (/^ {6}\S/.test(line) && out.length > 0) out[out.length - 1].body += ` ${line.trim()}`;
        return out;
      }, []);
    const usage: Record<string, string> = {
      root: 'DIR',
      port: '--port N',
      host: '--host ADDR',
      python: '--python PATH',
      debug: '--debug',
      dev: '--dev',
      allowRemoteDev: '--allow-remote-dev',
      index: '--index LIST',
      grouping: '--grouping MODE',
      groups: '(pypages.yaml only)',
      processes: '--processes N',
      threads: '--threads N',
      pythonPath: '--python-path DIRS',
      env: '(pypages.yaml only)',
      cwd: '--cwd DIR',
      preload: '--preload SCRIPTS',
      venv: '--venv MODE',
      idleTimeout: '--idle-timeout SECONDS',
      maxWorkers: '--max-workers N',
      queueLimit: '--queue-limit N',
      queueTimeout: '--queue-timeout SECONDS',
      requestTimeout: '--request-timeout SECONDS',
      maxRequests: '--max-requests N',
      maxRequestsJitter: '--max-requests-jitter N',
      maxMemory: '--max-memory SIZE',
      heartbeatTimeout: '--heartbeat-timeout SECONDS',
      shutdownGrace: '--shutdown-grace SECONDS',
      launch: '--launch HOW',
      sharedPreload: '--shared-preload MODULES',
      statusPath: '--status-path PATH',
      statusAllow: '--status-allow ADDRS',
      metricsPath: '--metrics-path PATH',
      healthPath: '--health-path PATH',
      compressPages: '--compress-pages',
      maxBody: '--max-body SIZE',
      maxHeaderSize: '--max-header-size SIZE',
      maxHeaderFields: '--max-header-fields N',
      clientTimeout: '--client-timeout SECONDS',
      keepAliveTimeout: '--keep-alive-timeout SECONDS',
      trustProxy: '--trust-proxy ADDRS',
      cert: '--cert FILE',
      key: '--key FILE',
      deny: '--deny GLOBS',
      defaultSite: '--default-site NAME',
      userdir: '--userdir FOLDER',
      userdirMinUid: '--userdir-min-uid UID',
      userdirAllow: '--userdir-allow USERS',
      userdirDeny: '--userdir-deny USERS',
      allowOverride: '--allow-override KEYS',
      accessLog: '--access-log FILE',
      accessLogFormat: '--access-log-format FORMAT',
      errorLog: '--error-log FILE',
      sites: '(pypages.yaml only)',
      tls: '--tls MODE',
      httpPort: '--http-port N',
      redirectHttp: '--redirect-http',
      acmeDirectory: '--acme-directory URL',
      acmeEmail: '--acme-email ADDR',
      acmeCa: '--acme-ca FILE',
      acmeRenewBefore: '--acme-renew-before SECONDS',
      stateDir: '--state-dir DIR',
      serverUser: '--server-user USER',
      user: '--user USER',
      group: '--group GROUP',
      umask: '--umask MASK',
      allowRootPages: '--allow-root-pages',
      symlinks: '--symlinks MODE',
      limitMemory: '--limit-memory SIZE',
      limitCpu: '--limit-cpu SECONDS',
      limitProcesses: '--limit-processes N',
      limitOpenFiles: '--limit-open-files N',
      limitFileSize: '--limit-file-size SIZE',
      tenantMemory: '--tenant-memory SIZE',
      tenantCpu: '--tenant-cpu PERCENT',
      tenantProcesses: '--tenant-processes N',
      tenantMaxWorkers: '--tenant-max-workers N',
      tenantMaxRequests: '--tenant-max-requests N',
      config: '--config FILE',
    };
    expect(Object.keys(usage)).toEqual(SETTING_LIST.map((s) => s.name));
    expect(blocks.map((b) => b.head)).toEqual([...Object.values(usage), '-h, --help', '--version', '--check']);
    SETTING_LIST.forEach((s, i) => {
      const where = s.yaml === null ? 'command line only' : `yaml: ${s.yaml}`;
      expect(blocks[i].body).toBe(` ${s.help} (${where}; default: ${s.defaultText}; allowed: ${s.allowed})`);
    });
  });

  it('prints the package version', () => {
    const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string };
    expect(parseCli(['--version'], cwd)).toEqual({ kind: 'version', text: `pypages ${pkg.version}` });
  });

  it('renders a markdown row per setting', () => {
    const table = markdownTable().split('\n');
    expect(table).toHaveLength(SETTING_LIST.length + 2);
    for (const s of SETTING_LIST) expect(table.some((row) => row.startsWith(`| ${s.name} | \``))).toBe(true);
    expect(table).toContain(
      `| env | \`(pypages.yaml only)\` | \`env\` | ✓ | ✓ | none | ${SETTINGS.env.allowed} | ${SETTINGS.env.help} |`,
    );
    expect(table.find((row) => row.startsWith('| groups |'))).toMatch(
      /^\| groups \| `\(pypages\.yaml only\)` \| `groups` \| ✓ \| {2}\| none \| /,
    );
    expect(table).toContain(
      `| config | \`--config FILE\` | — |  |  | ${SETTINGS.config.defaultText} | ${SETTINGS.config.allowed} | ${SETTINGS.config.help} |`,
    );
    expect(table).toContain(
      `| maxBody | \`--max-body SIZE\` | \`max-body\` | ✓ | ✓ | 1G | ${SETTINGS.maxBody.allowed} | ${SETTINGS.maxBody.help} |`,
    );
  });

  it('matches the README settings table (regenerate it with: npm run settings-table)', () => {
    const text = readFileSync(path.join(repo, 'README.md'), 'utf8');
    const match = /<!-- settings:start -->\n([\s\S]*?)\n<!-- settings:end -->/.exec(text);
    expect(
      match,
      'README.md needs the settings table between <!-- settings:start --> and <!-- settings:end -->',
    ).not.toBeNull();
    expect(match![1].trim()).toBe(markdownTable());
  });
});

/**
 * One sample per setting for conf/p.yaml and, where there is a flag, for the command line (run from cwd),
 * each different from the default and from the other: "/CWD" stands for cwd. YAML paths resolve against conf/.
 */
const SAMPLES: { [K in keyof SettingValues]: { yaml: string; fromYaml: unknown; argv?: string[]; fromCli?: unknown } } =
  {
    root: { yaml: 'site', fromYaml: '/CWD/conf/site', argv: ['www'], fromCli: '/CWD/www' },
    port: { yaml: '9000', fromYaml: 9000, argv: ['--port', '9001'], fromCli: 9001 },
    host: { yaml: '0.0.0.0', fromYaml: '0.0.0.0', argv: ['--host', '::'], fromCli: '::' },
    python: { yaml: 'venv', fromYaml: '/CWD/conf/venv', argv: ['--python', 'python3.12'], fromCli: 'python3.12' },
    debug: { yaml: 'true', fromYaml: true, argv: ['--debug'], fromCli: true },
    dev: { yaml: 'false', fromYaml: false, argv: ['--dev'], fromCli: true },
    // The samples bind a public address with debug on: allowed only with allow-remote-dev.
    allowRemoteDev: { yaml: 'true', fromYaml: true, argv: ['--allow-remote-dev'], fromCli: true },
    index: {
      yaml: '[main.py, default.htm]',
      fromYaml: ['main.py', 'default.htm'],
      argv: ['--index', 'y.py'],
      fromCli: ['y.py'],
    },
    grouping: { yaml: 'per-folder', fromYaml: 'per-folder', argv: ['--grouping', 'global'], fromCli: 'global' },
    groups: {
      yaml: '\n  - name: alice\n    match: users/alice/**\n    threads: 2\n    python-path: [lib]\n  - name: api\n    match: [api/**, "*.api.py"]',
      fromYaml: [
        { name: 'alice', match: ['users/alice/**'], overrides: { threads: 2, pythonPath: ['/CWD/conf/lib'] } },
        { name: 'api', match: ['api/**', '*.api.py'], overrides: {} },
      ],
    },
    processes: { yaml: '3', fromYaml: 3, argv: ['--processes', '4'], fromCli: 4 },
    threads: { yaml: '4', fromYaml: 4, argv: ['--threads', '5'], fromCli: 5 },
    pythonPath: {
      yaml: '[lib, /opt/x]',
      fromYaml: ['/CWD/conf/lib', '/opt/x'],
      argv: ['--python-path', 'lib2,/opt/y'],
      fromCli: ['/CWD/lib2', '/opt/y'],
    },
    env: {
      yaml: '{APP_MODE: prod, WORKERS: 4, DEBUG: false}',
      fromYaml: { APP_MODE: 'prod', WORKERS: '4', DEBUG: 'false' },
    },
    cwd: { yaml: 'data', fromYaml: '/CWD/conf/data', argv: ['--cwd', 'www'], fromCli: '/CWD/www' },
    preload: {
      yaml: '[app.py, ./blog/index.py]',
      fromYaml: ['app.py', 'blog/index.py'],
      argv: ['--preload', 'b/c.py'],
      fromCli: ['b/c.py'],
    },
    venv: { yaml: 'off', fromYaml: 'off', argv: ['--venv', 'auto'], fromCli: 'auto' },
    idleTimeout: { yaml: '0.5', fromYaml: 0.5, argv: ['--idle-timeout', '0'], fromCli: 0 },
    maxWorkers: { yaml: '10', fromYaml: 10, argv: ['--max-workers', '20'], fromCli: 20 },
    queueLimit: { yaml: '0', fromYaml: 0, argv: ['--queue-limit', '5'], fromCli: 5 },
    queueTimeout: { yaml: '2.5', fromYaml: 2.5, argv: ['--queue-timeout', '0.01'], fromCli: 0.01 },
    requestTimeout: { yaml: '0', fromYaml: 0, argv: ['--request-timeout', '120'], fromCli: 120 },
    maxRequests: { yaml: '1000', fromYaml: 1000, argv: ['--max-requests', '2000'], fromCli: 2000 },
    maxRequestsJitter: { yaml: '50', fromYaml: 50, argv: ['--max-requests-jitter', '0'], fromCli: 0 },
    maxMemory: { yaml: '512M', fromYaml: 512 * 1024 ** 2, argv: ['--max-memory', '1.5G'], fromCli: 1.5 * 1024 ** 3 },
    heartbeatTimeout: { yaml: '10', fromYaml: 10, argv: ['--heartbeat-timeout', '0'], fromCli: 0 },
    shutdownGrace: { yaml: '1.5', fromYaml: 1.5, argv: ['--shutdown-grace', '0'], fromCli: 0 },
    launch: { yaml: 'spawn', fromYaml: 'spawn', argv: ['--launch', 'fork'], fromCli: 'fork' },
    sharedPreload: {
      yaml: '[flask, django.conf]',
      fromYaml: ['flask', 'django.conf'],
      argv: ['--shared-preload', 'numpy'],
      fromCli: ['numpy'],
    },
    statusPath: { yaml: '/-/status', fromYaml: '/-/status', argv: ['--status-path', '/_status'], fromCli: '/_status' },
    statusAllow: {
      yaml: '[10.0.0.0/8, "fe80::/10"]',
      fromYaml: ['10.0.0.0/8', 'fe80::/10'],
      argv: ['--status-allow', '0.0.0.0/0,::/0'],
      fromCli: ['0.0.0.0/0', '::/0'],
    },
    metricsPath: {
      yaml: '/-/metrics',
      fromYaml: '/-/metrics',
      argv: ['--metrics-path', '/metrics'],
      fromCli: '/metrics',
    },
    healthPath: { yaml: '""', fromYaml: '', argv: ['--health-path', '/healthz'], fromCli: '/healthz' },
    compressPages: { yaml: 'true', fromYaml: true, argv: ['--compress-pages'], fromCli: true },
    maxBody: { yaml: '10M', fromYaml: 10 * 1024 ** 2, argv: ['--max-body', '0'], fromCli: 0 },
    maxHeaderSize: { yaml: '64K', fromYaml: 64 * 1024, argv: ['--max-header-size', '8192'], fromCli: 8192 },
    maxHeaderFields: { yaml: '50', fromYaml: 50, argv: ['--max-header-fields', '20'], fromCli: 20 },
    clientTimeout: { yaml: '90', fromYaml: 90, argv: ['--client-timeout', '2.5'], fromCli: 2.5 },
    keepAliveTimeout: { yaml: '0', fromYaml: 0, argv: ['--keep-alive-timeout', '15'], fromCli: 15 },
    trustProxy: {
      yaml: '127.0.0.1, ::1',
      fromYaml: ['127.0.0.1', '::1'],
      argv: ['--trust-proxy', '10.1.2.3'],
      fromCli: ['10.1.2.3'],
    },
    cert: {
      yaml: 'tls/cert.pem',
      fromYaml: '/CWD/conf/tls/cert.pem',
      argv: ['--cert', 'c.pem'],
      fromCli: '/CWD/c.pem',
    },
    key: { yaml: 'tls/key.pem', fromYaml: '/CWD/conf/tls/key.pem', argv: ['--key', 'k.pem'], fromCli: '/CWD/k.pem' },
    deny: {
      yaml: '["*.db", /data/**]',
      fromYaml: ['*.db', '/data/**'],
      argv: ['--deny', 'secrets.*'],
      fromCli: ['secrets.*'],
    },
    defaultSite: { yaml: 'shop', fromYaml: 'shop', argv: ['--default-site', 'reject'], fromCli: 'reject' },
    userdir: { yaml: 'public_html', fromYaml: 'public_html', argv: ['--userdir', 'www'], fromCli: 'www' },
    userdirMinUid: { yaml: '500', fromYaml: 500, argv: ['--userdir-min-uid', '2000'], fromCli: 2000 },
    userdirAllow: {
      yaml: '[alice, bob]',
      fromYaml: ['alice', 'bob'],
      argv: ['--userdir-allow', 'carol'],
      fromCli: ['carol'],
    },
    userdirDeny: { yaml: '[mallory]', fromYaml: ['mallory'], argv: ['--userdir-deny', 'eve'], fromCli: ['eve'] },
    allowOverride: {
      yaml: '[index, deny]',
      fromYaml: ['index', 'deny'],
      argv: ['--allow-override', 'debug'],
      fromCli: ['debug'],
    },
    accessLog: {
      yaml: 'logs/{site}.log',
      fromYaml: '/CWD/conf/logs/{site}.log',
      argv: ['--access-log', 'a.log'],
      fromCli: '/CWD/a.log',
    },
    accessLogFormat: {
      yaml: 'vhost-combined',
      fromYaml: 'vhost-combined',
      argv: ['--access-log-format', 'combined'],
      fromCli: 'combined',
    },
    errorLog: {
      yaml: 'logs/{user}.err',
      fromYaml: '/CWD/conf/logs/{user}.err',
      argv: ['--error-log', 'e.log'],
      fromCli: '/CWD/e.log',
    },
    sites: {
      yaml: '\n  - name: shop\n    hosts: [Shop.Example.com, "*.shop.test:8080"]\n    root: site\n    max-body: 1K',
      fromYaml: [
        {
          name: 'shop',
          hosts: ['shop.example.com', '*.shop.test:8080'],
          root: '/CWD/conf/site',
          values: { maxBody: 1024 },
        },
      ],
    },
    tls: { yaml: 'auto', fromYaml: 'auto', argv: ['--tls', 'off'], fromCli: 'off' },
    httpPort: { yaml: '8080', fromYaml: 8080, argv: ['--http-port', '8081'], fromCli: 8081 },
    redirectHttp: { yaml: 'true', fromYaml: true, argv: ['--redirect-http'], fromCli: true },
    acmeDirectory: {
      yaml: 'https://ca.example/dir',
      fromYaml: 'https://ca.example/dir',
      argv: ['--acme-directory', 'http://127.0.0.1:14000/dir'],
      fromCli: 'http://127.0.0.1:14000/dir',
    },
    acmeEmail: { yaml: 'a@example.com', fromYaml: 'a@example.com', argv: ['--acme-email', 'b@x.y'], fromCli: 'b@x.y' },
    acmeCa: {
      yaml: 'tls/ca.pem',
      fromYaml: '/CWD/conf/tls/ca.pem',
      argv: ['--acme-ca', 'ca.pem'],
      fromCli: '/CWD/ca.pem',
    },
    acmeRenewBefore: { yaml: '86400', fromYaml: 86400, argv: ['--acme-renew-before', '3600'], fromCli: 3600 },
    stateDir: {
      yaml: 'state',
      fromYaml: '/CWD/conf/state',
      argv: ['--state-dir', '/var/lib/p'],
      fromCli: '/var/lib/p',
    },
    serverUser: { yaml: 'www-data', fromYaml: 'www-data', argv: ['--server-user', 'nobody'], fromCli: 'nobody' },
    user: { yaml: 'owner', fromYaml: 'owner', argv: ['--user', 'www-data'], fromCli: 'www-data' },
    group: { yaml: 'staff', fromYaml: 'staff', argv: ['--group', '33'], fromCli: '33' },
    umask: { yaml: '"027"', fromYaml: 0o027, argv: ['--umask', '077'], fromCli: 0o077 },
    allowRootPages: { yaml: 'true', fromYaml: true, argv: ['--allow-root-pages'], fromCli: true },
    symlinks: { yaml: 'follow', fromYaml: 'follow', argv: ['--symlinks', 'owner-match'], fromCli: 'owner-match' },
    limitMemory: { yaml: '512M', fromYaml: 512 * 1024 ** 2, argv: ['--limit-memory', '1G'], fromCli: 1024 ** 3 },
    limitCpu: { yaml: '60', fromYaml: 60, argv: ['--limit-cpu', '30'], fromCli: 30 },
    limitProcesses: { yaml: '100', fromYaml: 100, argv: ['--limit-processes', '50'], fromCli: 50 },
    limitOpenFiles: { yaml: '256', fromYaml: 256, argv: ['--limit-open-files', '128'], fromCli: 128 },
    limitFileSize: { yaml: '10M', fromYaml: 10 * 1024 ** 2, argv: ['--limit-file-size', '1M'], fromCli: 1024 ** 2 },
    tenantMemory: { yaml: '1G', fromYaml: 1024 ** 3, argv: ['--tenant-memory', '2G'], fromCli: 2 * 1024 ** 3 },
    tenantCpu: { yaml: '50', fromYaml: 50, argv: ['--tenant-cpu', '200'], fromCli: 200 },
    tenantProcesses: { yaml: '64', fromYaml: 64, argv: ['--tenant-processes', '32'], fromCli: 32 },
    tenantMaxWorkers: { yaml: '4', fromYaml: 4, argv: ['--tenant-max-workers', '8'], fromCli: 8 },
    tenantMaxRequests: { yaml: '100', fromYaml: 100, argv: ['--tenant-max-requests', '50'], fromCli: 50 },
  };

/** Writes conf/p.yaml with every sample (and the folders and files they name); returns its path. */
function writeSamples(): string {
  for (const dir of ['conf/site', 'conf/venv', 'conf/data']) mkdirSync(path.join(cwd, dir), { recursive: true });
  for (const file of ['conf/tls/cert.pem', 'conf/tls/key.pem', 'conf/tls/ca.pem', 'c.pem', 'k.pem', 'ca.pem'])
    write(file, 'PEM');
  const lines = (Object.keys(SAMPLES) as (keyof SettingValues)[]).map(
    (name) => `${SETTINGS[name].yaml}: ${SAMPLES[name].yaml}`,
  );
  return write('conf/p.yaml', `${lines.join('\n')}\n`);
}

function fromYaml(file: string): Record<string, unknown> {
  return inCwd({
    ...Object.fromEntries(Object.entries(SAMPLES).map(([name, s]) => [name, s.fromYaml])),
    configFile: file,
  });
}

describe('YAML file', () => {
  it('has a sample for every setting, with a flag sample exactly where there is a flag', () => {
    expect(Object.keys(SAMPLES)).toEqual(VALUE_NAMES);
    for (const name of VALUE_NAMES) expect(SAMPLES[name].argv !== undefined, name).toBe(SETTINGS[name].flag !== null);
  });

  it("reads every key, relative paths against the file's folder", () => {
    const file = writeSamples();
    const config = run(['--config', file]);
    expect(plain(config)).toEqual(fromYaml(file));
    for (const name of VALUE_NAMES)
      expect(config[name], name).not.toEqual(name === 'root' ? path.join(cwd, 'www') : SETTINGS[name].default);
    expect(config.groups.map((r) => r.test('users/alice/x/app.py'))).toEqual([true, false]);
    expect(config.groups.map((r) => r.test('api/v1.py'))).toEqual([false, true]);
    expect(config.groups.map((r) => r.test('x.api.py'))).toEqual([false, true]);
  });

  it('is overridden by each flag on its own, and by all flags together', () => {
    const file = writeSamples();
    const yaml = fromYaml(file);
    const all: string[] = [];
    const cli: Record<string, unknown> = {};
    for (const name of VALUE_NAMES) {
      const { argv, fromCli } = SAMPLES[name];
      if (!argv) continue;
      all.push(...argv);
      cli[name] = inCwd(fromCli);
      // A switch can only turn itself on: its sample is true in both.
      const switches = ['debug', 'redirectHttp', 'compressPages', 'allowRemoteDev', 'allowRootPages'];
      if (!switches.includes(name)) expect(cli[name], name).not.toEqual(yaml[name]);
      expect(plain(run(['--config', file, ...argv])), name).toEqual({ ...yaml, [name]: cli[name] });
    }
    expect(plain(run(['--config', file, ...all]))).toEqual({ ...yaml, ...cli });
  });

  it('lets --debug override debug: false', () => {
    write('pypages.yaml', 'debug: false\n');
    expect(run(['--debug']).debug).toBe(true);
  });

  it.each<[string, Partial<Config>]>([
    ['index: a.py, b.html', { index: ['a.py', 'b.html'] }],
    ['index:\n  - a.py\n  - b.py', { index: ['a.py', 'b.py'] }],
    ['python: python3.12', { python: 'python3.12' }],
    ['python: ./env/bin/python', { python: '/CWD/env/bin/python' }],
    ['python: ""', { python: '' }],
    ['port: "8001"', { port: 8001 }],
    ['port: 0x1F41', { port: 8001 }],
    ['debug: false', { debug: false }],
    ['root: www', { root: '/CWD/www' }],
    ['grouping: " global "', { grouping: 'global' }],
    ['processes: "2"', { processes: 2 }],
    ['python-path: lib, sub/../shared', { pythonPath: ['/CWD/lib', '/CWD/shared'] }],
    ['python-path: []', { pythonPath: [] }],
    ['env: {}', { env: {} }],
    ['env:\n  A: "1"\n  B: 1.5\n  C: yes', { env: { A: '1', B: '1.5', C: 'yes' } }],
    ['cwd: ""', { cwd: '' }],
    ['cwd: www', { cwd: '/CWD/www' }],
    ['preload: app.py', { preload: ['app.py'] }],
    ['idle-timeout: 0', { idleTimeout: 0 }],
    ['idle-timeout: "1.25"', { idleTimeout: 1.25 }],
    ['queue-timeout: 0.01', { queueTimeout: 0.01 }],
    ['max-requests: 1000000000', { maxRequests: 1e9 }],
    ['max-memory: 1048576', { maxMemory: 1048576 }],
    ['max-memory: 1.5G', { maxMemory: 1.5 * 1024 ** 3 }],
    ['max-body: 64KiB', { maxBody: 65536 }],
    ['max-body: 0', { maxBody: 0 }],
    ['max-header-size: 1K', { maxHeaderSize: 1024 }],
    ['max-header-fields: 2000', { maxHeaderFields: 2000 }],
    ['shared-preload: flask', { sharedPreload: ['flask'] }],
    ['status-allow: "::1"', { statusAllow: ['::1'] }],
    ['status-allow: []', { statusAllow: [] }],
    ['status-path: ""', { statusPath: '' }],
    ['health-path: /', { healthPath: '/' }],
    ['trust-proxy: [10.0.0.0/8, "2001:db8::/32"]', { trustProxy: ['10.0.0.0/8', '2001:db8::/32'] }],
    ['trust-proxy: ""', { trustProxy: [] }],
    ['cert: ""\nkey: ""', { cert: '', key: '' }],
    ['groups: []', { groups: [] }],
  ])('%j', (yaml, expected) => {
    write('pypages.yaml', yaml);
    expect(run([])).toMatchObject(inCwd(expected));
  });

  it('picks pypages.yaml from cwd by default, and --config replaces it', () => {
    const file = write('pypages.yaml', 'port: 7000\n');
    expect(run([])).toMatchObject({ port: 7000, configFile: file });
    const other = write('other.yaml', 'threads: 3\n');
    expect(run(['--config', 'other.yaml'])).toMatchObject({ port: 8000, threads: 3, configFile: other });
  });

  it('treats an empty or comment-only file as all defaults', () => {
    for (const text of ['', '\n', '# nothing here\n', '---\n']) {
      const file = write('pypages.yaml', text);
      expect(run([])).toEqual({ ...makeConfig({ root: path.join(cwd, 'www') }), configFile: file });
    }
  });

  it("resolves YAML root against the file's folder but a CLI root against cwd", () => {
    mkdirSync(path.join(cwd, 'conf/www'), { recursive: true });
    write('conf/pypages.yaml', 'root: www\n');
    expect(run(['--config', 'conf/pypages.yaml']).root).toBe(path.join(cwd, 'conf/www'));
    expect(run(['--config', 'conf/pypages.yaml', 'www']).root).toBe(path.join(cwd, 'www'));
  });

  const badValues: [string, string, string][] = [
    ['root', 'nowhere', '"/CWD/nowhere"'],
    ['root', 'pypages.yaml', '"/CWD/pypages.yaml"'],
    ['root', '5', '5'],
    ['root', '', 'null'],
    ['port', 'abc', '"abc"'],
    ['port', '-1', '-1'],
    ['port', '65536', '65536'],
    ['port', '80.5', '80.5'],
    ['port', 'true', 'true'],
    ['port', '[80]', '[80]'],
    ['port', '', 'null'],
    ['host', '""', '""'],
    ['host', '5', '5'],
    ['host', '[a]', '["a"]'],
    ['python', '5', '5'],
    ['python', '[python3]', '["python3"]'],
    ['python', '', 'null'],
    ['debug', 'yes', '"yes"'],
    ['debug', '1', '1'],
    ['debug', '"true"', '"true"'],
    ['dev', 'yes', '"yes"'],
    ['allow-remote-dev', '1', '1'],
    ['index', '[]', '[]'],
    ['index', '""', '""'],
    ['index', '[a/b.py]', '["a/b.py"]'],
    ['index', '[.hidden]', '[".hidden"]'],
    ['index', '[1]', '[1]'],
    ['index', '{a: 1}', '{"a":1}'],
    ['threads', '0', '0'],
    ['threads', '513', '513'],
    ['threads', 'x', '"x"'],
    ['grouping', 'per-file', '"per-file"'],
    ['grouping', 'Global', '"Global"'],
    ['grouping', '5', '5'],
    ['grouping', '', 'null'],
    ['groups', '5', '5'],
    ['groups', 'alice', '"alice"'],
    ['groups', '{name: a, match: "a/**"}', '{"name":"a","match":"a/**"}'],
    ['groups', '', 'null'],
    ['processes', '0', '0'],
    ['processes', '65', '65'],
    ['processes', '1.5', '1.5'],
    ['processes', 'two', '"two"'],
    ['python-path', '5', '5'],
    ['python-path', '[1]', '[1]'],
    ['python-path', '{a: b}', '{"a":"b"}'],
    ['python-path', '', 'null'],
    ['env', '[A=1]', '["A=1"]'],
    ['env', 'A=1', '"A=1"'],
    ['env', '{1A: x}', '{"1A":"x"}'],
    ['env', '{A-B: x}', '{"A-B":"x"}'],
    ['env', '{A: null}', '{"A":null}'],
    ['env', '{A: [1]}', '{"A":[1]}'],
    ['env', '{A: {B: c}}', '{"A":{"B":"c"}}'],
    ['env', '', 'null'],
    ['cwd', 'nowhere', '"/CWD/nowhere"'],
    ['cwd', 'pypages.yaml', '"/CWD/pypages.yaml"'],
    ['cwd', '5', '5'],
    ['cwd', '', 'null'],
    ['preload', '[/abs.py]', '["/abs.py"]'],
    ['preload', '[../x.py]', '["../x.py"]'],
    ['preload', '[app.txt]', '["app.txt"]'],
    ['preload', '5', '5'],
    ['venv', 'on', '"on"'],
    ['venv', 'true', 'true'],
    ['venv', '', 'null'],
    ['idle-timeout', '-1', '-1'],
    ['idle-timeout', '86401', '86401'],
    ['idle-timeout', '5s', '"5s"'],
    ['idle-timeout', '.inf', 'Infinity'],
    ['idle-timeout', '.nan', 'NaN'],
    ['idle-timeout', '', 'null'],
    ['max-workers', '0', '0'],
    ['max-workers', '10001', '10001'],
    ['max-workers', '"many"', '"many"'],
    ['queue-limit', '-1', '-1'],
    ['queue-limit', '100001', '100001'],
    ['queue-timeout', '0', '0'],
    ['queue-timeout', '3601', '3601'],
    ['queue-timeout', 'true', 'true'],
    ['request-timeout', '-1', '-1'],
    ['request-timeout', 'forever', '"forever"'],
    ['max-requests', '-1', '-1'],
    ['max-requests', '1.5', '1.5'],
    ['max-requests', '1000000001', '1000000001'],
    ['max-requests-jitter', '-1', '-1'],
    ['max-requests-jitter', 'x', '"x"'],
    ['max-memory', '-1', '-1'],
    ['max-memory', '1T', '"1T"'],
    ['max-memory', '1099511627777', '1099511627777'],
    ['max-memory', '10 X', '"10 X"'],
    ['max-memory', '1.5', '1.5'],
    ['heartbeat-timeout', '-1', '-1'],
    ['heartbeat-timeout', '3601', '3601'],
    ['shutdown-grace', '-0.5', '-0.5'],
    ['shutdown-grace', '3601', '3601'],
    ['launch', 'exec', '"exec"'],
    ['launch', 'true', 'true'],
    ['launch', '', 'null'],
    ['shared-preload', '[1flask]', '["1flask"]'],
    ['shared-preload', '[flask-login]', '["flask-login"]'],
    ['shared-preload', 'a..b', '"a..b"'],
    ['shared-preload', '5', '5'],
    ['status-path', 'status', '"status"'],
    ['status-path', '"/a b"', '"/a b"'],
    ['status-path', '/x?y', '"/x?y"'],
    ['status-path', '5', '5'],
    ['status-path', '', 'null'],
    ['status-allow', '[localhost]', '["localhost"]'],
    ['status-allow', '[10.0.0.0/33]', '["10.0.0.0/33"]'],
    ['status-allow', '"::1/129"', '"::1/129"'],
    ['status-allow', '5', '5'],
    ['metrics-path', 'metrics', '"metrics"'],
    ['compress-pages', 'yes', '"yes"'],
    ['health-path', 'health', '"health"'],
    ['health-path', '5', '5'],
    ['max-body', '1T', '"1T"'],
    ['max-body', '-5', '-5'],
    ['max-body', '1.5', '1.5'],
    ['max-body', '"5i"', '"5i"'],
    ['max-header-size', '1023', '1023'],
    ['max-header-size', '2M', '"2M"'],
    ['max-header-size', '0', '0'],
    ['max-header-fields', '0', '0'],
    ['client-timeout', '0', '0'],
    ['client-timeout', 'soon', '"soon"'],
    ['keep-alive-timeout', '-1', '-1'],
    ['trust-proxy', '[1.2.3.4/]', '["1.2.3.4/"]'],
    ['trust-proxy', '[1.2.3]', '["1.2.3"]'],
    ['trust-proxy', 'true', 'true'],
    ['trust-proxy', '[1]', '[1]'],
    ['cert', 'missing.pem', '"/CWD/missing.pem"'],
    ['cert', 'www', '"/CWD/www"'],
    ['cert', '5', '5'],
    ['key', 'missing.pem', '"/CWD/missing.pem"'],
    ['key', 'www', '"/CWD/www"'],
    ['key', '[k.pem]', '["k.pem"]'],
    ['deny', '[/a/../b]', '["/a/../b"]'],
    ['sites', 'shop', '"shop"'],
    ['default-site', '"a b"', '"a b"'],
    ['userdir', '/home', '"/home"'],
    ['userdir-min-uid', '0', '0'],
    ['userdir-allow', '["a b"]', '["a b"]'],
    ['userdir-deny', '5', '5'],
    ['allow-override', '[port]', '["port"]'],
    ['access-log', '""', '""'],
    ['access-log-format', 'common', '"common"'],
    ['error-log', '[]', '[]'],
    ['tls', 'on', '"on"'],
    ['http-port', '65536', '65536'],
    ['redirect-http', 'yes', '"yes"'],
    ['acme-directory', 'ftp://ca/dir', '"ftp://ca/dir"'],
    ['acme-email', 'nobody', '"nobody"'],
    ['acme-ca', 'missing.pem', '"/CWD/missing.pem"'],
    ['acme-renew-before', '10', '10'],
    ['state-dir', '""', '""'],
    ['server-user', '"a b"', '"a b"'],
    ['user', '"a b"', '"a b"'],
    ['group', '[staff]', '["staff"]'],
    ['umask', '"8"', '"8"'],
    ['allow-root-pages', 'yes', '"yes"'],
    ['symlinks', 'never', '"never"'],
    ['limit-memory', '-1', '-1'],
    ['limit-cpu', 'lots', '"lots"'],
    ['limit-processes', '1.5', '1.5'],
    ['limit-open-files', '2000000', '2000000'],
    ['limit-file-size', '1T', '"1T"'],
    ['tenant-memory', 'x', '"x"'],
    ['tenant-cpu', '-5', '-5'],
    ['tenant-processes', '[]', '[]'],
    ['tenant-max-workers', 'all', '"all"'],
    ['tenant-max-requests', '-1', '-1'],
  ];

  it.each(badValues)('rejects %s: %s, naming file, key and what is allowed', (key, value, got) => {
    const file = write('pypages.yaml', `${key}: ${value}\n`);
    const err = fail(() => run([]));
    const allowed = YAML_SETTINGS.get(key)?.allowed;
    expect(err.message).toBe(`pypages.yaml: ${key}: must be ${allowed} (got ${got.replace('/CWD', cwd)})`);
    expect(err.file).toBe(file);
    expect(err.key).toBe(key);
  });

  it('has a bad-value case for every YAML key', () => {
    expect(new Set(badValues.map(([key]) => key))).toEqual(new Set(YAML_SETTINGS.keys()));
    expect([...YAML_SETTINGS.keys()]).toEqual(YAML_KEYS);
  });

  it.each<[string, string, string]>([
    [
      '- name: a\n    match: a/**\n  - name: b\n    match: [b/*.py]\n    threads: 0',
      'groups[1].threads must be an integer from 1 to 512',
      '0',
    ],
    [
      '- name: a\n    match: a/**\n    port: 80',
      `groups[0] has unknown key "port" (allowed: name, match, processes, threads, python, python-path, env, cwd, preload, venv, user, group, umask, limit-memory, limit-cpu, limit-processes, limit-open-files, limit-file-size, tenant-memory, tenant-cpu, tenant-processes, tenant-max-workers, tenant-max-requests)`,
      '"port"',
    ],
    ['- name: a\n    match: a/**\n  - name: a\n    match: b/**', 'groups[1].name must be unique', '"a"'],
    ['- match: a/**', 'groups[0].name must be a word (letters, digits, _ . -)', 'nothing'],
    ['- name: a', 'groups[0].match must be a glob or a list of globs', 'nothing'],
    ['- name: a\n    match: []', 'groups[0].match must be a glob or a list of globs', '[]'],
    ['- alice', 'groups[0] is not a mapping', '"alice"'],
    [
      '- name: a\n    match: a/**\n    cwd: nowhere',
      'groups[0].cwd must be a folder, or "" for the script\'s own folder',
      '"nowhere"',
    ],
    [
      '- name: a\n    match: a/**\n    env: [A=1]',
      'groups[0].env must be a mapping of environment variable names to strings',
      '["A=1"]',
    ],
  ])('rejects a bad group: %j', (yaml, detail, got) => {
    const file = write('pypages.yaml', `groups:\n  ${yaml}\n`);
    const err = fail(() => run([]));
    expect(err.message).toBe(`pypages.yaml: groups: must be ${GROUPS_ALLOWED}; ${detail} (got ${got})`);
    expect(err.file).toBe(file);
    expect(err.key).toBe('groups');
  });

  it("resolves paths in groups against the file's folder", () => {
    mkdirSync(path.join(cwd, 'conf/data'), { recursive: true });
    mkdirSync(path.join(cwd, 'conf/venvs/a'), { recursive: true });
    const file = write(
      'conf/p.yaml',
      'groups:\n  - name: a\n    match: "**"\n    cwd: data\n    python: venvs/a\n    python-path: [lib]\n    preload: [app.py]\n',
    );
    expect(run(['--config', file]).groups[0].overrides).toEqual({
      cwd: path.join(cwd, 'conf/data'),
      python: path.join(cwd, 'conf/venvs/a'),
      pythonPath: [path.join(cwd, 'conf/lib')],
      preload: ['app.py'],
    });
  });

  it('rejects a bad value even when a flag overrides it', () => {
    write('pypages.yaml', 'port: abc\n');
    expect(fail(() => run(['--port', '80'])).message).toContain('pypages.yaml: port:');
  });

  it('shows the file path relative to cwd when inside it, absolute otherwise', () => {
    const inside = write('conf/p.yaml', 'port: x\n');
    expect(fail(() => run(['--config', inside])).message).toMatch(/^conf\/p\.yaml: port: /);
    const outsideDir = realpathSync(mkdtempSync(path.join(tmpdir(), 'pypages-outside-')));
    try {
      const outside = path.join(outsideDir, 'p.yaml');
      writeFileSync(outside, 'port: x\n');
      expect(fail(() => run(['--config', outside])).message.startsWith(`${outside}: port: `)).toBe(true);
    } finally {
      rmSync(outsideDir, { recursive: true, force: true });
    }
  });

  it.each([
    ['prot: 80', 'prot', '. Did you mean "port"?'],
    ['zzzzzzzz: 1', 'zzzzzzzz', ''],
    ['config: other.yaml', 'config', ''],
    ['Port: 80', 'Port', '. Did you mean "port"?'],
    ['treads: 4', 'treads', '. Did you mean "threads"?'],
    ['max_body: 1M', 'max_body', '. Did you mean "max-body"?'],
    ['maxBody: 1M', 'maxBody', '. Did you mean "max-body"?'],
    ['python_path: [lib]', 'python_path', '. Did you mean "python-path"?'],
    ['gruops: []', 'gruops', '. Did you mean "groups"?'],
    ['Env: {}', 'Env', '. Did you mean "env"?'],
    ['idle_timeout: 5', 'idle_timeout', '. Did you mean "idle-timeout"?'],
    ['timeout: 5', 'timeout', ''],
    ['ssl: true', 'ssl', '. Did you mean "tls"?'],
  ])('rejects unknown key in %j', (yaml, key, hint) => {
    const file = write('pypages.yaml', yaml);
    const err = fail(() => run([]));
    expect(err.message).toBe(`pypages.yaml: unknown key "${key}"; allowed keys: ${ALLOWED_KEYS}${hint}`);
    expect(err.file).toBe(file);
    expect(err.key).toBe(key);
  });

  it.each([
    ['port: 1\nport: 2\n', 2],
    ['index: [a.py,\n', 2],
    ['\t- x\n', 1],
    ['port: 80\n  bad: x\n', 1],
    ['a: 1\n---\nb: 2\n', 2],
    ['port: !custom 80\n', 1],
  ])('reports YAML syntax errors with file and line: %j', (yaml, line) => {
    const file = write('pypages.yaml', yaml);
    const err = fail(() => run([]));
    expect(err.message).toMatch(new RegExp(`^pypages\\.yaml, line ${line}, column \\d+: invalid YAML: \\S`));
    expect(err.message).not.toContain('\n');
    expect(err.file).toBe(file);
    expect(err.key).toBeNull();
  });

  it('reports an unresolved alias', () => {
    write('pypages.yaml', 'port: *nothing\n');
    expect(fail(() => run([])).message).toMatch(/^pypages\.yaml(, line \d+, column \d+)?: invalid YAML: /);
  });

  it.each([
    ['- port\n- 80\n', 'a list'],
    ['hello\n', 'the string "hello"'],
    ['8000\n', 'the number 8000'],
    ['true\n', 'the boolean true'],
  ])('rejects a file that is not a mapping: %j', (yaml, kind) => {
    const file = write('pypages.yaml', yaml);
    const err = fail(() => run([]));
    expect(err.message).toBe(
      `pypages.yaml: must be a mapping of settings (key: value), got ${kind}; allowed keys: ${ALLOWED_KEYS}`,
    );
    expect(err.file).toBe(file);
  });
});

describe('makeConfig', () => {
  it('fills defaults and validates', () => {
    const config = makeConfig({ root: path.join(cwd, 'www'), port: 0, debug: true });
    expect(config).toEqual({ ...inCwd(DEFAULTS), port: 0, debug: true });
  });

  it('parses raw values like the YAML file does, paths against process.cwd()', () => {
    const values: Record<string, unknown> = {
      maxBody: '10M',
      idleTimeout: '0.5',
      statusAllow: '10.0.0.0/8',
      env: { N: 1 },
      pythonPath: ['lib'],
      grouping: 'global',
      groups: [{ name: 'a', match: 'a/**', threads: 2 }],
    };
    const config = makeConfig({ root: path.join(cwd, 'www'), ...values });
    expect(plain(config)).toMatchObject({
      maxBody: 10 * 1024 ** 2,
      idleTimeout: 0.5,
      statusAllow: ['10.0.0.0/8'],
      env: { N: '1' },
      pythonPath: [path.resolve('lib')],
      grouping: 'global',
      groups: [{ name: 'a', match: ['a/**'], overrides: { threads: 2 } }],
    });
  });

  it('skips undefined values', () => {
    expect(makeConfig({ root: path.join(cwd, 'www'), port: undefined, env: undefined })).toEqual(inCwd(DEFAULTS));
  });

  it('resolves a relative root against process.cwd()', () => {
    expect(makeConfig({ root: path.relative(process.cwd(), path.join(cwd, 'www')) }).root).toBe(path.join(cwd, 'www'));
  });

  it.each<[Record<string, unknown>, string, string]>([
    [{ port: 70000 }, 'port', 'port: must be an integer from 0 to 65535 (got 70000)'],
    [{ threads: 0 }, 'threads', 'threads: must be an integer from 1 to 512 (got 0)'],
    [{ index: [] }, 'index', `index: must be ${SETTINGS.index.allowed} (got [])`],
    [{ debug: 'yes' }, 'debug', 'debug: must be true or false (got "yes")'],
    [{ processes: 0 }, 'processes', 'processes: must be an integer from 1 to 64 (got 0)'],
    [{ maxBody: '1T' }, 'maxBody', `maxBody: must be ${SETTINGS.maxBody.allowed} (got "1T")`],
    [{ env: 'A=1' }, 'env', `env: must be ${SETTINGS.env.allowed} (got "A=1")`],
    [{ groups: 'x' }, 'groups', `groups: must be ${GROUPS_ALLOWED} (got "x")`],
    [
      { groups: [{ name: 'a', match: 'a/**', threads: 0 }] },
      'groups',
      `groups: must be ${GROUPS_ALLOWED}; groups[0].threads must be an integer from 1 to 512 (got 0)`,
    ],
    [{ launch: 'exec' }, 'launch', 'launch: must be "fork" or "spawn" (got "exec")'],
    [
      { cwd: '/nonexistent-pypages-dir' },
      'cwd',
      `cwd: must be ${SETTINGS.cwd.allowed} (got "/nonexistent-pypages-dir")`,
    ],
    [{ colour: 'red' }, 'colour', `unknown setting "colour"; allowed: ${VALUE_NAMES_TEXT}`],
    [{ 'max-body': 1 }, 'max-body', `unknown setting "max-body"; allowed: ${VALUE_NAMES_TEXT}`],
    [{ configFile: 'x.yaml' }, 'configFile', `unknown setting "configFile"; allowed: ${VALUE_NAMES_TEXT}`],
    [{ config: 'x.yaml' }, 'config', `unknown setting "config"; allowed: ${VALUE_NAMES_TEXT}`],
  ])('rejects %j', (values, key, message) => {
    const err = fail(() => makeConfig({ root: path.join(cwd, 'www'), ...values }));
    expect(err.message).toBe(message);
    expect(err.key).toBe(key);
  });

  it('rejects a missing root', () => {
    expect(fail(() => makeConfig({ root: path.join(cwd, 'gone') })).key).toBe('root');
  });
});

describe('cert and key', () => {
  const message = (missing: string, file: string) =>
    `${missing}: cert and key go together for HTTPS: give both (--cert FILE --key FILE, or cert: and key: in ${file}) or neither`;

  beforeEach(() => {
    write('tls/cert.pem', 'CERT');
    write('tls/key.pem', 'KEY');
  });

  it('are accepted together, from flags, the file or both', () => {
    const both = { cert: path.join(cwd, 'tls/cert.pem'), key: path.join(cwd, 'tls/key.pem') };
    expect(run(['--cert', 'tls/cert.pem', '--key', 'tls/key.pem'])).toMatchObject(both);
    write('pypages.yaml', 'cert: tls/cert.pem\n');
    expect(run(['--key', 'tls/key.pem'])).toMatchObject(both);
    write('pypages.yaml', 'cert: tls/cert.pem\nkey: tls/key.pem\n');
    expect(run([])).toMatchObject(both);
    expect(makeConfig({ root: path.join(cwd, 'www'), ...both })).toMatchObject(both);
  });

  it.each<[string, string[], string | null, 'cert' | 'key']>([
    ['--cert alone', ['--cert', 'tls/cert.pem'], null, 'key'],
    ['--key alone', ['--key', 'tls/key.pem'], null, 'cert'],
    ['--cert with key: ""', ['--cert', 'tls/cert.pem'], 'key: ""\n', 'key'],
    ['cert: in the file alone', [], 'cert: tls/cert.pem\n', 'key'],
    ['key: in the file alone', [], 'key: tls/key.pem\n', 'cert'],
    ['both in the file, --key= clearing one', ['--key='], 'cert: tls/cert.pem\nkey: tls/key.pem\n', 'key'],
  ])('reject %s, naming the missing one and the file', (_, argv, yaml, missing) => {
    const file = yaml === null ? null : write('pypages.yaml', yaml);
    const err = fail(() => run(argv));
    expect(err.message).toBe(message(missing, 'pypages.yaml'));
    expect(err.key).toBe(missing);
    expect(err.file).toBe(file);
  });

  it('names the config file actually read', () => {
    const file = write('conf/tls.yaml', 'cert: ../tls/cert.pem\n');
    const err = fail(() => run(['--config', 'conf/tls.yaml']));
    expect(err.message).toBe(message('key', 'conf/tls.yaml'));
    expect(err.file).toBe(file);
    expect(err.key).toBe('key');
  });

  it('reject one without the other in makeConfig', () => {
    const err = fail(() => makeConfig({ root: path.join(cwd, 'www'), key: path.join(cwd, 'tls/key.pem') }));
    expect(err.message).toBe(message('cert', 'pypages.yaml'));
    expect(err.key).toBe('cert');
    expect(err.file).toBeNull();
  });
});

describe('frozen config', () => {
  it('cannot be mutated', () => {
    for (const config of [run([]), makeConfig({ root: path.join(cwd, 'www') })]) {
      expect(Object.isFrozen(config)).toBe(true);
      expect(Object.isFrozen(config.index)).toBe(true);
      expect(() => {
        (config as { port: number }).port = 1;
      }).toThrow(TypeError);
      expect(() => {
        (config.index as string[]).push('x.py');
      }).toThrow(TypeError);
      expect(() => {
        (config as unknown as Record<string, unknown>).extra = 1;
      }).toThrow(TypeError);
      expect(() => {
        (config.env as Record<string, string>).A = '1';
      }).toThrow(TypeError);
      expect(() => {
        (config.statusAllow as string[]).push('0.0.0.0/0');
      }).toThrow(TypeError);
    }
  });

  it('freezes every list and mapping, group rules included', () => {
    const file = writeSamples();
    for (const config of [run([]), run(['--config', file, '--preload', 'x.py'])]) {
      for (const name of VALUE_NAMES) {
        const value = config[name];
        if (value !== null && typeof value === 'object') expect(Object.isFrozen(value), name).toBe(true);
      }
      for (const rule of config.groups) {
        expect(Object.isFrozen(rule)).toBe(true);
        expect(Object.isFrozen(rule.match)).toBe(true);
        expect(Object.isFrozen(rule.overrides)).toBe(true);
        for (const value of Object.values(rule.overrides))
          if (typeof value === 'object') expect(Object.isFrozen(value)).toBe(true);
      }
    }
  });

  it('does not share the default index list with the table', () => {
    expect(run([]).index).not.toBe(SETTINGS.index.default);
  });
});
