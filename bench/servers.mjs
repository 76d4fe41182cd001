// The servers under test. Each start() launches one fresh server on
// 127.0.0.1:PORT over the run's document root, in its own process group, and
// returns a handle whose stop() ends it and all its descendants.
//
// Fairness rules (see bench/README.md): every server logs each request to a
// file (waitress has no access log), runs Debian's /usr/bin/python3 (3.11),
// and serves the same files behind the same URLs (/hello.py, /static/...).

import { spawn } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep, trackChild } from './measure.mjs';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_DIR = dirname(BENCH_DIR);
export const PYTHON = '/usr/bin/python3';
export const APACHE_MODULES = '/usr/lib/apache2/modules';

/** Threads per process for the peers that take a thread count (pypages' default is 16). */
const PEER_THREADS = 16;

/**
 * name -> { label, peer (a WSGI server pypages is compared with), workloads
 * (null = all), requires: [[file or command, Debian package]], start(ctx) }.
 */
export const SERVERS = {
  pypages: {
    label: 'pypages (default settings but dev: false, unless --pypages-args)',
    peer: false,
    requires: [[join(REPO_DIR, 'dist/server/cli.js'), 'npm run build']],
    start: (ctx) =>
      launch(ctx, 'pypages', process.execPath, [...(ctx.nodeArgs ?? []), ...pypagesArgv(ctx)], {
        stdoutFile: 'access.log', // the access log goes to stdout
      }),
  },
  'apache-embedded': {
    label: 'Apache 2.4 mpm_event + mod_wsgi embedded mode (AddHandler wsgi-script .py)',
    peer: true,
    requires: [
      ['/usr/sbin/apache2', 'apache2'],
      [`${APACHE_MODULES}/mod_wsgi.so`, 'libapache2-mod-wsgi-py3'],
    ],
    start: (ctx) => startApache(ctx, false),
  },
  'apache-daemon': {
    label: 'Apache 2.4 mpm_event + mod_wsgi daemon mode (processes=2 threads=15)',
    peer: true,
    requires: [
      ['/usr/sbin/apache2', 'apache2'],
      [`${APACHE_MODULES}/mod_wsgi.so`, 'libapache2-mod-wsgi-py3'],
    ],
    start: (ctx) => startApache(ctx, true),
  },
  uwsgi: {
    label: `uWSGI --http11-socket (keep-alive), 2 processes × ${PEER_THREADS} threads, dispatcher app, --static-map`,
    peer: true,
    requires: [
      ['/usr/bin/uwsgi', 'uwsgi'],
      ['/usr/lib/uwsgi/plugins/python3_plugin.so', 'uwsgi-plugin-python3'],
    ],
    start: (ctx) =>
      launch(ctx, 'uwsgi', '/usr/bin/uwsgi', [
        '--plugin',
        'python3',
        '--http11-socket',
        `127.0.0.1:${ctx.port}`,
        '--master',
        '--die-on-term',
        '--processes',
        '2',
        '--threads',
        String(PEER_THREADS),
        '--wsgi-file',
        join(BENCH_DIR, 'peers/dispatch.py'),
        '--static-map',
        `/static=${join(ctx.docroot, 'static')}`,
        '--env',
        `BENCH_DOCROOT=${ctx.docroot}`,
        '--buffer-size',
        '32768',
        '--tcp-nodelay',
        '--logto',
        join(ctx.dir, 'uwsgi.log'),
      ]),
  },
  gunicorn: {
    label: `gunicorn gthread, 2 workers × ${PEER_THREADS} threads, dispatcher app`,
    peer: true,
    requires: [['/usr/bin/gunicorn', 'gunicorn']],
    start: (ctx) =>
      launch(
        ctx,
        'gunicorn',
        '/usr/bin/gunicorn',
        [
          '-k',
          'gthread',
          '--workers',
          '2',
          '--threads',
          String(PEER_THREADS),
          '--bind',
          `127.0.0.1:${ctx.port}`,
          '--chdir',
          join(BENCH_DIR, 'peers'),
          '--access-logfile',
          join(ctx.dir, 'access.log'),
          '--error-logfile',
          join(ctx.dir, 'error.log'),
          'dispatch:application',
        ],
        { env: { BENCH_DOCROOT: ctx.docroot } },
      ),
  },
  waitress: {
    label: `waitress, 1 process × ${PEER_THREADS} threads, dispatcher app (no access log)`,
    peer: true,
    requires: [['/usr/bin/waitress-serve', 'python3-waitress']],
    start: (ctx) =>
      launch(
        ctx,
        'waitress',
        PYTHON,
        ['-m', 'waitress', `--listen=127.0.0.1:${ctx.port}`, `--threads=${PEER_THREADS}`, 'dispatch:application'],
        {
          cwd: join(BENCH_DIR, 'peers'),
          env: { BENCH_DOCROOT: ctx.docroot },
        },
      ),
  },
  'node-hello': {
    label: 'ceiling: bare node:http hello world',
    peer: false,
    workloads: ['hello'],
    requires: [],
    readyPath: '/',
    path: () => '/',
    start: (ctx) =>
      launch(ctx, 'node-hello', process.execPath, [join(BENCH_DIR, 'ceilings/node-hello.mjs'), String(ctx.port)]),
  },
  'node-static': {
    label: 'ceiling: bare node:http + fs static server',
    peer: false,
    workloads: ['static'],
    requires: [],
    start: (ctx) =>
      launch(ctx, 'node-static', process.execPath, [
        join(BENCH_DIR, 'ceilings/node-static.mjs'),
        String(ctx.port),
        ctx.docroot,
      ]),
  },
};

/** pypages' command line after `node`: the build's cli.js, the run's root and port, the settings every measurement uses. */
export function pypagesArgv(ctx) {
  const dir = ctx.pypagesDir ?? REPO_DIR;
  return [
    join(dir, 'dist/server/cli.js'),
    ctx.docroot,
    '--port',
    String(ctx.port),
    '--python',
    PYTHON,
    ...rootPagesArgs(dir),
    ...productionConfig(ctx),
    ...ctx.pypagesArgs,
  ];
}

/**
 * `--config FILE` turning development mode off, for a build that has it. Its
 * default (dev: auto) is on when pypages listens on loopback, as it does
 * here: live reload is then set up for every static file and page, and each
 * request gets a terminal line, which took Node's instructions per static
 * request from 179k to 311k (valgrind, commit 549d0c1). The peers run as
 * production servers, and the figures in bench/README.md predate dev mode.
 * An older checkout has no such setting (and refuses the key); a --config
 * in --pypages-args comes later and wins.
 */
function productionConfig(ctx) {
  if (!existsSync(join(ctx.pypagesDir ?? REPO_DIR, 'dist/lib/config/dev-mode.js'))) return [];
  const file = join(ctx.dir, 'pypages-bench.yaml');
  writeFileSync(file, 'dev: false\n');
  return ['--config', file];
}

/** A world-readable temporary folder (Apache's children run as www-data) with a copy of bench/docroot. */
export function makeRunDir() {
  const dir = mkdtempSync(join(tmpdir(), 'pypages-bench-'));
  chmodSync(dir, 0o755);
  const docroot = join(dir, 'docroot');
  cpSync(join(BENCH_DIR, 'docroot'), docroot, { recursive: true, filter: (src) => !src.includes('__pycache__') });
  mkdirSync(join(docroot, 'cold'));
  chmodTree(docroot);
  return { dir, docroot };
}

function chmodTree(path) {
  const st = statSync(path);
  chmodSync(path, st.isDirectory() ? 0o755 : 0o644);
  if (st.isDirectory()) for (const name of readdirSync(path)) chmodTree(join(path, name));
}

/** Commands and Debian packages this server needs that are missing. */
export function missingFor(name) {
  const missing = [];
  for (const [file, pkg] of SERVERS[name].requires) if (!existsSync(file)) missing.push({ file, pkg });
  return missing;
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Spawns a server as the leader of a new process group, output to files in
 * ctx.dir. Returns { pid, child, alive(), stop(), logs }.
 */
function launch(
  ctx,
  _name,
  command,
  args,
  { cwd = ctx.dir, env = {}, stdoutFile = 'stdout.log', stopSignal = 'SIGTERM' } = {},
) {
  const out = openSync(join(ctx.dir, stdoutFile), 'a');
  const err = openSync(join(ctx.dir, 'stderr.log'), 'a');
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, ...ctx.env, ...env },
    stdio: ['ignore', out, err],
    detached: true,
  });
  closeSync(out);
  closeSync(err);
  trackChild(child, { group: true });
  let exited = false;
  const exit = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      exited = true;
      resolve({ code, signal });
    }),
  );
  child.once('error', () => (exited = true));
  return {
    pid: child.pid,
    child,
    command: [command, ...args].join(' '),
    alive: () => !exited,
    exit,
    /** SIGTERM to the leader, SIGKILL to the whole group if it has not exited within `graceMs`, then to leftovers. */
    async stop(graceMs = 8000) {
      if (!exited) {
        try {
          process.kill(child.pid, stopSignal);
        } catch {
          /* gone */
        }
        await Promise.race([exit, sleep(graceMs)]);
      }
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* no one left in the group */
      }
      await Promise.race([exit, sleep(2000)]);
    },
  };
}

/** Apache with its own ServerRoot in ctx.dir: embedded or daemon mod_wsgi over the document root. */
function startApache(ctx, daemon) {
  const run = join(ctx.dir, 'run');
  mkdirSync(run, { recursive: true });
  const asRoot = process.getuid?.() === 0;
  const conf = `# Generated by bench/servers.mjs
ServerRoot "${ctx.dir}"
ServerName 127.0.0.1
Listen 127.0.0.1:${ctx.port}
PidFile "${join(run, 'httpd.pid')}"
DefaultRuntimeDir "${run}"
Mutex file:${run} default
${asRoot ? 'User www-data\nGroup www-data' : ''}
LoadModule mpm_event_module ${APACHE_MODULES}/mod_mpm_event.so
LoadModule authz_core_module ${APACHE_MODULES}/mod_authz_core.so
LoadModule mime_module ${APACHE_MODULES}/mod_mime.so
LoadModule wsgi_module ${APACHE_MODULES}/mod_wsgi.so
TypesConfig /etc/mime.types

# Debian's mpm_event.conf defaults.
StartServers 2
MinSpareThreads 25
MaxSpareThreads 75
ThreadLimit 64
ThreadsPerChild 25
MaxRequestWorkers 150
MaxConnectionsPerChild 0

# Keep-alive without a per-connection request cap, as Node's http server.
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 5

ErrorLog "${join(ctx.dir, 'error.log')}"
LogLevel warn
LogFormat "%h %l %u %t \\"%r\\" %>s %O \\"%{Referer}i\\" \\"%{User-Agent}i\\"" combined
CustomLog "${join(ctx.dir, 'access.log')}" combined

WSGISocketPrefix "${join(run, 'wsgi')}"
${daemon ? `WSGIDaemonProcess bench processes=2 threads=15 display-name=%{GROUP}\nWSGIProcessGroup bench` : ''}

DocumentRoot "${ctx.docroot}"
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "${ctx.docroot}">
    Options +ExecCGI
    AddHandler wsgi-script .py
    Require all granted
</Directory>
`;
  const file = join(ctx.dir, 'apache.conf');
  writeFileSync(file, conf);
  return launch(ctx, 'apache', '/usr/sbin/apache2', ['-f', file, '-DFOREGROUND']);
}

/**
 * The bench's docroot belongs to whoever runs it, often root: a pypages that
 * refuses root-owned pages (allow-root-pages, issue 13) is told to serve them
 * as before, so figures stay comparable; an older checkout has no such flag.
 */
function rootPagesArgs(dir) {
  const settings = join(dir, 'dist/lib/config/tenant-settings.js');
  return process.getuid?.() === 0 && existsSync(settings) ? ['--allow-root-pages'] : [];
}
