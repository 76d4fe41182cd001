// Many sites: chosen by Host, default-site (a site, or reject), what a site
// inherits from the top level, user folders' sites and their URL prefix.
import { mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeConfig, type Config } from '../../../lib/config/config.js';
import { siteHostNames, sitesOf } from '../../../lib/site/site.js';
import { parsePasswd } from '../../../lib/tenant/accounts.js';
import { pathInSite, prefixRedirect, targetInSite, userSites } from '../../../lib/site/userdir.js';
import { removeDir, tempDir } from '../../helpers.js';

const base = tempDir('pypages-sites-');
afterAll(() => removeDir(base));
for (const d of ['main', 'shop', 'blog', 'home/alice/public_html', 'home/bob', 'home/root/public_html', 'home/eve'])
  mkdirSync(path.join(base, d), { recursive: true });

const sites = (extra: Partial<Omit<Config, 'root' | 'configFile'>> = {}) =>
  sitesOf(
    makeConfig({
      root: path.join(base, 'main'),
      deny: ['*.db'],
      env: { A: 'top', B: 'top' },
      maxBody: 100,
      sites: [
        {
          name: 'shop',
          hosts: ['shop.test', 'www.shop.test:8080'],
          root: path.join(base, 'shop'),
          'max-body': '1K',
          env: { B: 'shop' },
          deny: ['*.csv'],
        },
        { name: 'blog', hosts: ['*.blog.test'], root: path.join(base, 'blog'), debug: true },
      ] as never,
      ...extra,
    }),
    '/usr/bin/python3',
  );

describe('sitesOf with sites:', () => {
  it('chooses the site by Host, and sends unknown hosts to the default site', () => {
    const s = sites();
    expect(s.all.map((x) => x.name)).toEqual(['default', 'shop', 'blog']);
    expect(s.siteFor('SHOP.test')?.name).toBe('shop');
    expect(s.siteFor('www.shop.test:8080')?.name).toBe('shop');
    expect(s.siteFor('a.blog.test')?.name).toBe('blog');
    expect(s.siteFor('unknown.test')?.name).toBe('default');
    expect(s.siteFor(undefined)?.name).toBe('default');
  });

  it('default-site: a site by name, or reject (null: 421)', () => {
    expect(sites({ defaultSite: 'blog' }).siteFor('unknown.test')?.name).toBe('blog');
    expect(sites({ defaultSite: 'reject' }).siteFor('unknown.test')).toBeNull();
    expect(sites({ defaultSite: 'reject' }).siteFor('shop.test')?.name).toBe('shop');
    expect(() => sites({ defaultSite: 'nope' })).toThrow(
      /default-site: must be "default", "reject" or the name of a site/,
    );
  });

  it('inherits the top level, adds to its deny and env, and takes its own values over the rest', () => {
    const [main, shop, blog] = sites().all;
    expect(shop).toMatchObject({ root: path.join(base, 'shop'), maxBody: 1024, serverName: 'shop.test', debug: false });
    expect(shop.deny.globs).toEqual(['*.db', '*.csv']);
    expect(shop.groupDefaults.env).toEqual({ A: 'top', B: 'shop' });
    expect(blog).toMatchObject({ maxBody: 100, debug: true, serverName: null });
    expect(main).toMatchObject({ name: 'default', maxBody: 100, prefix: '', user: null });
  });

  it('lists every host name once, without ports, for certificates', () => {
    expect(siteHostNames(sites())).toEqual(['shop.test', 'www.shop.test', '*.blog.test']);
  });
});

describe('user folders', () => {
  const passwd = new Map(
    parsePasswd(
      [
        `root:x:0:0:root:${base}/home/root:/bin/sh`,
        `alice:x:1001:1001::${base}/home/alice:/bin/sh`,
        `bob:x:1002:1002::${base}/home/bob:/bin/sh`,
        `sys:x:999:999::${base}/home/alice:/bin/sh`,
        `eve:x:1003:1003::${base}/home/eve:/bin/sh`,
        'broken line',
      ].join('\n'),
    ).map((a) => [a.name, a]),
  );
  const users = (extra: Partial<Omit<Config, 'root' | 'configFile'>> = {}) =>
    userSites(makeConfig({ root: path.join(base, 'main'), userdir: 'public_html', ...extra }), 'python3', (u) =>
      passwd.get(u),
    );

  it("maps /~alice/… to alice's folder, as the site ~alice, the same object every time", () => {
    const forUser = users();
    const site = forUser('/~alice/x.py');
    expect(site).toMatchObject({
      name: '~alice',
      root: path.join(base, 'home/alice/public_html'),
      prefix: '/~alice',
      user: 'alice',
    });
    expect(forUser('/%7Ealice/')).toBe(site);
    expect(forUser('/~alice')).toBe(site);
  });

  it('has none for root, low uids, unknown users, users without the folder or with one outside their home, and the deny/allow lists', () => {
    const forUser = users();
    symlinkSync(`${base}/home/alice/public_html`, `${base}/home/eve/public_html`);
    for (const url of ['/~root/', '/~sys/', '/~nobody/', '/~bob/', '/~eve/', '/alice/', '/~alice.x/', '/x/~alice/'])
      expect(forUser(url), url).toBeNull();
    expect(users({ userdirDeny: ['alice'] })('/~alice/')).toBeNull();
    expect(users({ userdirAllow: ['bob'] })('/~alice/')).toBeNull();
    expect(users({ userdirAllow: ['alice'] })('/~alice/')).not.toBeNull();
    expect(users({ userdirMinUid: 1002 })('/~alice/')).toBeNull();
  });

  it('resolves below the prefix and puts it back in SCRIPT_NAME and redirects', () => {
    const site = users()('/~alice/')!;
    expect(pathInSite(site, '/~alice/a/b.py')).toBe('/a/b.py');
    expect(pathInSite(site, '/~alice')).toBe('');
    expect(targetInSite(site, { kind: 'script', file: '/f', scriptName: '/b.py', pathInfo: '/x' })).toMatchObject({
      scriptName: '/~alice/b.py',
      pathInfo: '/x',
    });
    expect(targetInSite(site, { kind: 'redirect', location: '/a/' })).toEqual({
      kind: 'redirect',
      location: '/~alice/a/',
    });
    expect(prefixRedirect(site, 'q=1')).toEqual({ kind: 'redirect', location: '/~alice/?q=1' });
  });

  it('parses /etc/passwd lines, skipping malformed ones', () => {
    expect(passwd.get('alice')).toEqual({ name: 'alice', uid: 1001, gid: 1001, home: `${base}/home/alice` });
    expect(passwd.has('broken line')).toBe(false);
  });
});
