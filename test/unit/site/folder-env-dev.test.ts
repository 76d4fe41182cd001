// A folder's env and dev (.pypages.yaml), without a server: env adds
// variables but never the operator's and never one read before the page
// runs, and makes groups of its own; dev only goes down from the site's.
// Also dev per site, under the same exposure rule as the server's.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeConfig, type Config } from '../../../lib/config/config.js';
import { groupSpecFor } from '../../../lib/groups/spec.js';
import { parseOverrides, readOverrides, SiteFolders } from '../../../lib/site/overrides.js';
import { hostingProblems } from '../../../lib/site/site-rules.js';
import { sitesOf, type Site } from '../../../lib/site/site.js';
import { removeDir, tempDir } from '../../helpers.js';

const root = tempDir('pypages-folder-');
afterAll(() => removeDir(root));
const write = (file: string, text: string) => {
  mkdirSync(path.join(root, path.dirname(file)), { recursive: true });
  writeFileSync(path.join(root, file), text);
  return path.join(root, file);
};
const ALL = ['index', 'deny', 'debug', 'dev', 'env', 'max-body'];
const siteOf = (values: Partial<Omit<Config, 'root' | 'configFile'>>): Site =>
  sitesOf(makeConfig({ root, allowOverride: ALL, allowRootPages: true, ...values }), '/usr/bin/python3').fallback;
/** The site as the folder `rel` sees it; fails the test when its files are broken. */
const seenFrom = (site: Site, rel: string): Site => {
  const seen = new SiteFolders(site).siteAt(path.join(root, rel));
  if (typeof seen === 'string') throw new Error(seen);
  return seen;
};

describe('env and dev in .pypages.yaml: parsing', () => {
  it('accepts env (a mapping) and dev (true, false, auto)', () => {
    const file = write('p/.pypages.yaml', 'env: {APP_MODE: test, N: 3}\ndev: false\n');
    expect(parseOverrides(file, ALL)).toEqual({ env: { APP_MODE: 'test', N: '3' }, dev: false });
  });

  it.each([
    'LD_PRELOAD',
    'PYTHONPATH',
    'PYTHONSTARTUP',
    'MALLOC_CONF',
    'PYPAGES_WORKER',
    'GCONV_PATH',
    'TMPDIR',
    'GLIBC_TUNABLES',
  ])('refuses %s: read before the page runs (by setpriv as root, the loader or the interpreter)', (name) => {
    const file = write('r/.pypages.yaml', `env: {OK: "1", ${name}: /home/x/evil}\n`);
    expect(parseOverrides(file, ALL)).toBe(
      `${file}: env: ${name}: a folder may not set variables read before the page runs (LD_*, MALLOC_*, PYTHON*, PYPAGES_*, GCONV_PATH, LOCPATH, TMPDIR and the rest of glibc's unsafe list)`,
    );
  });

  it('lists every problem of a file (pypages --check), the first being the one a request reports', () => {
    const file = write('m/.pypages.yaml', 'dev: sure\nport: 80\nenv: {LD_AUDIT: x}\nindex: [ok.html]\n');
    const { values, problems } = readOverrides(file, ALL);
    expect(problems).toEqual([
      `${file}: dev: must be true, false or "auto"`,
      `${file}: port: not allowed in a folder's .pypages.yaml (allow-override: ${ALL.join(', ')})`,
      expect.stringContaining(`${file}: env: LD_AUDIT: a folder may not set`),
    ]);
    expect(values).toEqual({ index: ['ok.html'] });
    expect(parseOverrides(file, ALL)).toBe(problems[0]);
  });
});

describe("a folder's env", () => {
  write('e/.pypages.yaml', 'env: {B_VAR: folder, SHARED: folder, PATH: /home/x/bin, HOME: /tmp, A_VAR: a}\n');
  write('e/deeper/.pypages.yaml', 'env: {B_VAR: deeper}\n');
  write('f/.pypages.yaml', 'env: {SHARED: mine}\n');
  const site = siteOf({ env: { SHARED: 'operator' }, grouping: 'global' });

  it("adds variables, deeper files winning, never one the operator set (pypages.yaml, the server's environment, a worker's launch)", () => {
    expect(seenFrom(site, 'e').folderEnv).toEqual({ A_VAR: 'a', B_VAR: 'folder' });
    expect(Object.keys(seenFrom(site, 'e').folderEnv ?? {})).toEqual(['A_VAR', 'B_VAR']); // sorted: a group key
    expect(seenFrom(site, 'e/deeper').folderEnv).toEqual({ A_VAR: 'a', B_VAR: 'deeper' });
    expect(seenFrom(site, 'f').folderEnv).toBeUndefined(); // nothing left: the site's own groups
    expect(site.folderEnv).toBeUndefined();
  });

  it("gives the folder's scripts groups of their own, the operator's values winning", () => {
    const script = (rel: string) => path.join(root, rel);
    const plain = groupSpecFor(script('x.py'), site);
    const folder = groupSpecFor(script('e/x.py'), seenFrom(site, 'e'));
    expect(plain.env).toEqual({ SHARED: 'operator' });
    expect(folder.env).toEqual({ A_VAR: 'a', B_VAR: 'folder', SHARED: 'operator' });
    expect(folder.key).not.toBe(plain.key); // grouping: global, and still apart
    expect(groupSpecFor(script('e/deeper/x.py'), seenFrom(site, 'e/deeper')).key).not.toBe(folder.key);
    expect(groupSpecFor(script('f/x.py'), seenFrom(site, 'f')).key).toBe(plain.key);
  });
});

describe("a folder's dev", () => {
  write('d/.pypages.yaml', 'dev: false\n');
  write('d/on/.pypages.yaml', 'dev: true\n');
  write('u/.pypages.yaml', 'dev: true\n');

  it("turns development mode off, and back to the site's below, on a site that has it", () => {
    for (const [values, on] of [
      [{ dev: true }, true],
      [{ dev: 'auto' }, 'local'], // loopback by default: for loopback Hosts only, and stays so
    ] as const) {
      const site = siteOf(values);
      expect(site.dev).toBe(on);
      expect(seenFrom(site, 'd').dev).toBe(false);
      expect(seenFrom(site, 'd/on').dev).toBe(on);
      expect(seenFrom(site, 'u').dev).toBe(on);
    }
  });

  it('never turns it on where the site has it off (a public address: off by default, refused without allow-remote-dev)', () => {
    for (const site of [siteOf({ dev: false }), siteOf({ host: '0.0.0.0' })]) {
      expect(site.dev).toBe(false);
      expect(seenFrom(site, 'u').dev).toBe(false);
      expect(seenFrom(site, 'd/on').dev).toBe(false);
    }
  });
});

describe('dev per site', () => {
  const base = { defaultSite: 'default', dev: 'auto' as const, debug: false, trustProxy: [], allowRemoteDev: false };
  const site = (values: Record<string, unknown>) => ({ name: 'shop', hosts: ['shop.test'], root, values });

  it('is refused, naming the site, when the site turns dev or debug on at a public address without allow-remote-dev', () => {
    const problems = hostingProblems({ ...base, host: '0.0.0.0', sites: [site({ dev: true }), site({ debug: true })] });
    expect(problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^sites: shop: dev: dev mode shows your code/),
      expect.stringMatching(/^sites: shop: debug: debug mode shows your code/),
    ]);
    expect(hostingProblems({ ...base, host: '0.0.0.0', allowRemoteDev: true, sites: [site({ dev: true })] })).toEqual(
      [],
    );
    expect(hostingProblems({ ...base, host: '127.0.0.1', sites: [site({ dev: true })] })).toEqual([]);
    expect(hostingProblems({ ...base, host: '0.0.0.0', sites: [site({ dev: false })] })).toEqual([]);
  });

  it("is the site's own: on for it, off for another", () => {
    write('shop/index.html', 'shop');
    const config = makeConfig({
      root,
      dev: false,
      sites: [{ name: 'shop', hosts: ['shop.test'], root: path.join(root, 'shop'), dev: true }],
    } as never);
    const sites = sitesOf(config, '/usr/bin/python3');
    expect(sites.siteFor('shop.test')?.dev).toBe(true);
    expect(sites.siteFor('other.test')?.dev).toBe(false);
  });
});
