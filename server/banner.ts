// What pypages says when it starts: where to point the browser (the
// machine's addresses for a wildcard bind: no browser opens 0.0.0.0), the
// Python in use, the config file, a handful of the pages it found, and, when
// pages import a framework this Python lacks while another interpreter on
// the machine has it, which --python to use. Found by a bounded walk of the
// document root; the framework check runs after the banner, off the way of
// the first request.

import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { userInfo } from 'node:os';
import type { Config } from '../lib/config/config.js';
import type { Site } from '../lib/site/site.js';
import { browsableUrls } from '../lib/config/dev-mode.js';
import { startedAsRoot } from '../lib/tenant/identity.js';
import { type RootSide, rootSide } from '../lib/tenant/root-side.js';
import type { RunningServer } from './app.js';
import { ROOT_KEPT_VARIABLE } from './drop.js';
import { shutdownGrace } from './lifecycle.js';

const MAX_FILES = 400;
const MAX_SHOWN = 6;
const PAGE = /^(def|async def|class) application\b|^application\s*[:=]/m;
const FRAMEWORKS = ['flask', 'django', 'bottle', 'falcon', 'pyramid', 'webob', 'werkzeug'];
const OTHER_PYTHONS = ['/usr/bin/python3', '/usr/local/bin/python3', 'python3'];

export interface Found {
  /** URL paths of the pages found, sorted. */
  pages: string[];
  /** Top-level framework modules those pages import. */
  frameworks: string[];
}

/** The .py files under `root` that look like pages (a bounded walk: dot-folders, __pycache__ and venvs skipped). */
export function findPages(root: string): Found {
  const pages: string[] = [];
  const frameworks = new Set<string>();
  const queue = [root];
  let seen = 0;
  while (queue.length && seen < MAX_FILES) {
    const dir = queue.shift()!;
    for (const e of safeList(dir)) {
      if (++seen > MAX_FILES || e.name.startsWith('.') || e.name === '__pycache__' || e.name === 'venv') continue;
      const full = join(dir, e.name);
      if (e.isDirectory()) queue.push(full);
      else if (e.isFile() && e.name.endsWith('.py')) notePage(full, root, pages, frameworks);
    }
  }
  const depth = (p: string) => p.split('/').length;
  pages.sort((a, b) => depth(a) - depth(b) || a.localeCompare(b)); // the top folder's pages first
  return { pages, frameworks: [...frameworks].sort() };
}

function safeList(dir: string) {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

function notePage(file: string, root: string, pages: string[], frameworks: Set<string>): void {
  let source: string;
  try {
    source = readFileSync(file, 'utf8').slice(0, 64 * 1024);
  } catch {
    return;
  }
  if (!PAGE.test(source)) return;
  pages.push(`/${relative(root, file)}`);
  for (const m of FRAMEWORKS) if (new RegExp(`^\\s*(from|import)\\s+${m}\\b`, 'm').test(source)) frameworks.add(m);
}

/** The banner's lines. `url`: the server's own; `host`, `port`, `scheme`: for the wildcard addresses. */
export function bannerLines(o: {
  url: string;
  host: string;
  port: number;
  scheme: string;
  root: string;
  python: string;
  version: string;
  configFile: string | null;
  dev: boolean | 'local';
  found: Found;
  tenancy: readonly string[];
}): string[] {
  const urls = browsableUrls(o.host, o.port, o.scheme);
  const lines = [`pypages: serving ${o.root} at ${urls.join(' , ')}`];
  lines.push(`pypages: Python ${o.version} (${o.python}); config: ${o.configFile ?? 'none (defaults and flags)'}`);
  lines.push(...o.tenancy.map((line) => `pypages: ${line}`));
  if (o.dev) lines.push('pypages: development mode: error pages show your code and variables (this machine only)');
  const shown = o.found.pages.slice(0, MAX_SHOWN).map((p) => `${urls[0].replace(/\/$/, '')}${encodeURI(p)}`);
  if (shown.length) {
    const more = o.found.pages.length > MAX_SHOWN ? ` (and ${o.found.pages.length - MAX_SHOWN} more)` : '';
    lines.push(`pypages: pages found${more}:`, ...shown.map((u) => `  ${u}`));
  } else lines.push('pypages: no pages found yet: a .py file that defines application(environ, start_response) is one');
  return lines;
}

/** Modules of `modules` that `python` cannot import (all of them if it cannot run). */
export function missingModules(python: string, modules: string[]): Promise<string[]> {
  const script =
    'import importlib.util,sys\nfor m in sys.argv[1:]:\n  print(m if importlib.util.find_spec(m) is None else "")';
  return new Promise((resolve) => {
    execFile(python, ['-c', script, ...modules], { timeout: 10_000 }, (err, stdout) =>
      resolve(err ? modules : String(stdout).split('\n').filter(Boolean)),
    );
  });
}

/** The advice when pages import frameworks `python` lacks and another interpreter has them all; null otherwise. */
export async function frameworkAdvice(python: string, frameworks: string[]): Promise<string | null> {
  if (!frameworks.length) return null;
  const lacking = await missingModules(python, frameworks);
  if (!lacking.length) return null;
  for (const other of OTHER_PYTHONS) {
    if (other === python || (await missingModules(other, lacking)).length) continue;
    return `pypages: pages here import ${lacking.join(', ')}, which ${python} lacks; ${other} has them: start pypages with --python ${other} to run them`;
  }
  return `pypages: pages here import ${lacking.join(', ')}, which ${python} lacks: those pages will answer 500 until it is installed for that Python (see README "Running a framework app")`;
}

/** Prints the banner (its first line, the URL, on stdout as ever; the rest on stderr), then the framework advice if any. */
export function announce(running: RunningServer, config: Config): void {
  const site = running.runtime.sites.fallback;
  const found = findPages(site.root);
  const [first, ...rest] = bannerLines({
    url: running.url,
    host: config.host,
    port: running.port,
    scheme: config.cert ? 'https' : 'http',
    root: site.root,
    python: running.interpreter.path,
    version: running.interpreter.version,
    configFile: config.configFile,
    dev: site.dev,
    found,
    tenancy: [tenancyLine(running.runtime.cgroups.describe), ...httpUserLine(), ...rootPagesNote(site, found.pages)],
  });
  process.stdout.write(`${first}\n`);
  process.stderr.write(`${rest.join('\n')}\n`);
  frameworkAdvice(running.interpreter.path, found.frameworks).then(
    (advice) => advice && process.stderr.write(`${advice}\n`),
    () => {},
  );
}

/** What a stop signal is answered with: the requests it waits for, how long at most, and how to stop at once. */
export function stoppingNote(inflight: number, config: Config): string {
  if (inflight === 0) return 'no requests in flight; stopping';
  const n = `${inflight} request${inflight === 1 ? '' : 's'}`;
  return `finishing ${n} (up to ${shutdownGrace(config)} s); press Ctrl-C again to stop now`;
}

/** Who pages run as, said once at start (README "Security model"). */
export function tenancyLine(cgroups: string, asRoot = startedAsRoot(), user = userInfo().username): string {
  if (!asRoot)
    return `pages run as ${user}, the server's own user: they can read and signal what it can (start as root for one user per tenant)`;
  return `pages run as their owners (the user setting), never as root unless allow-root-pages; cgroups: ${cgroups}`;
}

/** Who serves HTTP, when pypages was started as root (README "Security model"): server-user, or a warning. */
export function httpUserLine(
  side: RootSide | null = rootSide(),
  uid = process.getuid?.(),
  kept = process.env[ROOT_KEPT_VARIABLE],
): string[] {
  if (side) return [`HTTP is served as ${side.serverUser}, without privileges; a root launcher starts the workers`];
  if (uid !== 0) return [];
  if (kept) return [`warning: HTTP is served as root, since the default server-user cannot: ${kept}`];
  const why = process.connected ? 'server-user: root' : 'no supervisor (PYPAGES_NO_SUPERVISOR=1)';
  return [`warning: HTTP is served as root (${why}): a flaw in request handling would be root's; set server-user`];
}

/**
 * Started as root, pages owned by root answer 500 unless allow-root-pages
 * (lib/tenant/identity.ts): said at start, so the first 500 is no surprise.
 */
export function rootPagesNote(site: Site, pages: readonly string[], asRoot = startedAsRoot()): string[] {
  if (!asRoot || site.allowRootPages) return [];
  const owned = pages.filter((p) => statSync(join(site.root, p), { throwIfNoEntry: false })?.uid === 0);
  if (!owned.length) return [];
  return [
    `${owned.length} page(s) here are owned by root and will answer 500: chown them to the user they should run as, ` +
      'or give their site a user (user:), or start with --allow-root-pages to run them as root',
  ];
}
