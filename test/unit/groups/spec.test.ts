// Which group runs a script, from its site: grouping modes, named groups,
// working directories, virtualenvs, preload.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeConfig, type Config } from '../../../lib/config/config.js';
import { groupSpecFor as specFor, preloadTargets } from '../../../lib/groups/spec.js';
import { systemAccounts } from '../../../lib/tenant/accounts.js';
import { sitesOf, type Site } from '../../../lib/site/site.js';
import { removeDir, tempDir } from '../../helpers.js';

const root = tempDir('pypages-spec-');
afterAll(() => removeDir(root));
mkdirSync(join(root, 'blog'), { recursive: true });
mkdirSync(join(root, 'users', 'alice'), { recursive: true });

const PY = '/usr/bin/python3';
/** The default site of a config with `values` (raw, as makeConfig validates them) over the defaults. */
const siteWith = (values: Partial<Omit<Config, 'root' | 'configFile'>>): Site =>
  sitesOf(makeConfig({ root, ...values }), PY).fallback;
const script = (...parts: string[]) => join(root, ...parts);
// As a server not started as root: every group runs as the server (identity and tenant: test/unit/tenant).
const groupSpecFor = (file: string, site: Site) => specFor(file, site, { accounts: systemAccounts(), asRoot: false });

describe('groupSpecFor', () => {
  it('per-script (the default): each script its own group, in its own folder', () => {
    const site = siteWith({});
    const spec = groupSpecFor(script('blog', 'index.py'), site);
    expect(spec).toMatchObject({
      site,
      key: `script:${script('blog', 'index.py')}|${PY}|server`,
      label: 'blog/index.py',
      python: PY,
      cwd: join(root, 'blog'),
    });
    expect(groupSpecFor(script('blog', 'post.py'), site).key).not.toBe(spec.key);
  });

  it("per-folder: the scripts of a folder share a group; global: all share one, in its first script's folder", () => {
    const folder = siteWith({ grouping: 'per-folder' });
    expect(groupSpecFor(script('blog', 'a.py'), folder).key).toBe(groupSpecFor(script('blog', 'b.py'), folder).key);
    expect(groupSpecFor(script('blog', 'a.py'), folder).label).toBe('blog/');
    const global = siteWith({ grouping: 'global' });
    expect(groupSpecFor(script('blog', 'a.py'), global)).toMatchObject({
      key: `global|${PY}|server`,
      label: '(global)',
      cwd: join(root, 'blog'),
    });
  });

  it('named groups come first and override the per-group settings', () => {
    const site = siteWith({
      threads: 8,
      groups: [{ name: 'alice', match: ['users/alice/**'], threads: 2, env: { MODE: 'demo' } }] as never,
    });
    expect(groupSpecFor(script('users', 'alice', 'app.py'), site)).toMatchObject({
      key: `name:alice|${PY}|server`,
      label: 'alice',
      threads: 2,
      env: { MODE: 'demo' },
      cwd: join(root, 'users', 'alice'),
    });
    expect(groupSpecFor(script('blog', 'a.py'), site)).toMatchObject({ threads: 8, env: {} });
  });

  it('takes cwd from the setting when given', () => {
    expect(groupSpecFor(script('blog', 'a.py'), siteWith({ cwd: join(root, 'users') })).cwd).toBe(join(root, 'users'));
  });

  it('runs a script under a .venv with its Python, unless venv is off; the interpreter splits the group', () => {
    const venvPython = join(root, 'blog', '.venv', 'bin', 'python3');
    mkdirSync(join(venvPython, '..'), { recursive: true });
    writeFileSync(venvPython, '');
    const spec = groupSpecFor(script('blog', 'a.py'), siteWith({ grouping: 'global' }));
    expect(spec.python).toBe(PY); // global groups are anchored at the root, above blog/.venv
    expect(groupSpecFor(script('blog', 'a.py'), siteWith({})).python).toBe(venvPython);
    expect(groupSpecFor(script('blog', 'a.py'), siteWith({})).key).toBe(
      `script:${script('blog', 'a.py')}|${venvPython}|server`,
    );
    expect(groupSpecFor(script('blog', 'a.py'), siteWith({ venv: 'off' })).python).toBe(PY);
  });

  it('keeps the same key for the same script in two sites: the registry keys groups by site as well', () => {
    const [one, two] = [siteWith({}), siteWith({})];
    const [a, b] = [groupSpecFor(script('x.py'), one), groupSpecFor(script('x.py'), two)];
    expect(a.key).toBe(b.key);
    expect(a.site).not.toBe(b.site);
  });
});

describe('preloadTargets', () => {
  it("lists the site's preload scripts and each named group's, once, as absolute paths", () => {
    const site = siteWith({
      preload: ['a.py', 'blog/b.py'],
      groups: [{ name: 'g', match: '**', preload: ['blog/b.py', 'c.py'] }] as never,
    });
    expect(preloadTargets(site)).toEqual([script('a.py'), script('blog', 'b.py'), script('c.py')]);
  });
});
