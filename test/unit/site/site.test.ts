// The request → site step: one default site made from the config, holding
// every per-request setting, and per-site values made once per site.
import { afterAll, describe, expect, it } from 'vitest';
import { makeConfig } from '../../../lib/config/config.js';
import { GROUP_SETTING_NAMES } from '../../../lib/config/settings.js';
import { perSite, SITE_LIMIT_NAMES, sitesOf, type Site } from '../../../lib/site/site.js';
import { removeDir, tempDir } from '../../helpers.js';

const root = tempDir('pypages-site-');
afterAll(() => removeDir(root));

describe('sitesOf', () => {
  const config = makeConfig({
    root,
    index: ['home.py'],
    debug: true,
    maxBody: 1234,
    threads: 3,
    requestTimeout: 7,
    grouping: 'per-folder',
  });
  const sites = sitesOf(config, '/usr/bin/python3');

  it('makes one site, the default, from the config', () => {
    expect(sites.all).toEqual([sites.fallback]);
    expect(sites.fallback).toMatchObject({
      name: 'default',
      root,
      serverName: null,
      index: ['home.py'],
      debug: true,
      maxBody: 1234,
      python: '/usr/bin/python3',
      grouping: 'per-folder',
    });
    expect(sites.fallback.groupRules).toBe(config.groups);
  });

  it("gives its groups every per-group setting but python (the site's checked interpreter), and every limit", () => {
    const site = sites.fallback;
    expect(Object.keys(site.groupDefaults).sort()).toEqual(GROUP_SETTING_NAMES.filter((n) => n !== 'python').sort());
    expect(site.groupDefaults.threads).toBe(3);
    expect(Object.keys(site.limits).sort()).toEqual([...SITE_LIMIT_NAMES].sort());
    expect(site.limits.requestTimeout).toBe(7);
    expect(Object.isFrozen(site) && Object.isFrozen(site.groupDefaults) && Object.isFrozen(site.limits)).toBe(true);
  });

  it('sends every request to the default site, whatever its Host', () => {
    for (const host of ['example.com', 'other.test:8080', '[::1]:80', '', undefined])
      expect(sites.siteFor(host)).toBe(sites.fallback);
  });
});

describe('perSite', () => {
  it('builds a value once per site, and anew for the sites of a new config', () => {
    const built: Site[] = [];
    const valueFor = perSite((site) => {
      built.push(site);
      return { root: site.root };
    });
    const first = sitesOf(makeConfig({ root }), 'python3').fallback;
    expect(valueFor(first)).toBe(valueFor(first));
    const second = sitesOf(makeConfig({ root }), 'python3').fallback;
    expect(valueFor(second)).not.toBe(valueFor(first));
    expect(built).toEqual([first, second]);
  });
});
