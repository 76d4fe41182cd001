// Which interpreter group a script belongs to, and how that group's
// processes are started. Named groups (groups:) are tried first, in order;
// then the grouping mode decides. A group is also split by interpreter: a
// script under a folder with .venv/ runs with that virtualenv's Python.

import { existsSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import type { Config } from '../config/config.js';

export interface GroupSpec {
  readonly key: string;         // identity: same key, same group
  readonly label: string;       // for logs and the status page
  readonly python: string;
  readonly processes: number;
  readonly threads: number;
  readonly pythonPath: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
}

type Overridable = Pick<Config, 'processes' | 'threads' | 'pythonPath' | 'env' | 'cwd' | 'venv'>;

/**
 * The group of `script` (an absolute path inside config.root). `interpreter`
 * is the checked default Python; a group's own `python` (a command or venv
 * folder) is used as given.
 */
export function groupSpecFor(script: string, config: Config, interpreter: string): GroupSpec {
  const rel = toUrlPath(relative(config.root, script));
  const rule = config.groups.find((r) => r.test(rel));
  const { preload: _preload, python: ownPython, ...overrides } = rule?.overrides ?? {};
  const settings: Overridable = { ...pick(config), ...overrides };
  const [base, label, anchor] = rule
    ? [`name:${rule.name}`, rule.name, config.root]
    : baseKey(script, rel, config);
  const python = pythonFor(typeof ownPython === 'string' && ownPython ? ownPython : null, settings.venv, rule ? dirname(script) : anchor, config.root, interpreter);
  return {
    key: `${base}|${python}`,
    label,
    python,
    processes: settings.processes,
    threads: settings.threads,
    pythonPath: settings.pythonPath,
    env: settings.env,
    cwd: settings.cwd || anchor,
  };
}

function pick(config: Config): Overridable {
  const { processes, threads, pythonPath, env, cwd, venv } = config;
  return { processes, threads, pythonPath, env, cwd, venv };
}

/** [key, label, anchor folder] from the grouping mode. */
function baseKey(script: string, rel: string, config: Config): [string, string, string] {
  switch (config.grouping) {
    case 'per-folder': {
      const folder = dirname(script);
      return [`folder:${folder}`, toUrlPath(relative(config.root, folder)) + '/', folder];
    }
    case 'global':
      return ['global', '(global)', config.root];
    default:
      return [`script:${script}`, rel, dirname(script)];
  }
}

/** The group's own python, else the nearest .venv above `from` (inside the root), else the default. */
function pythonFor(own: string | null, venv: 'auto' | 'off', from: string, root: string, interpreter: string): string {
  if (own) return pythonOfSpec(own);
  return (venv === 'auto' && nearestVenv(from, root)) || interpreter;
}

/** A virtualenv folder → its interpreter; anything else as given. */
function pythonOfSpec(spec: string): string {
  for (const candidate of [join(spec, 'bin', 'python3'), join(spec, 'bin', 'python')]) {
    if (existsSync(candidate)) return candidate;
  }
  return spec;
}

/** .venv/bin/python in `from` or a folder above it, up to and including the root. */
export function nearestVenv(from: string, root: string): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    for (const name of ['python3', 'python']) {
      const candidate = join(dir, '.venv', 'bin', name);
      if (existsSync(candidate)) return candidate;
    }
    if (dir === root || !dir.startsWith(root + sep) || dirname(dir) === dir) return null;
  }
}

function toUrlPath(p: string): string {
  return p.split(sep).join('/');
}

/** Scripts to import at server start (absolute): the top-level preload list, and each named group's. */
export function preloadTargets(config: Config): string[] {
  const fromRules = config.groups.flatMap((r) => ((r.overrides.preload as readonly string[] | undefined) ?? []));
  return [...new Set([...config.preload, ...fromRules])].map((p) => join(config.root, p));
}
