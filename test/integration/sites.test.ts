// Virtual hosts with the real server: sites chosen by Host (exact, wildcard,
// unknown → the default site, or 421), each with its own root, settings,
// limits, deny rules and groups; two sites' same script never share state.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfig, type Config } from '../../lib/config/config.js';
import { memoryLogger } from '../../lib/util/log.js';
import { startPypages, type RunningServer } from '../../server/app.js';
import { hostGet as get } from '../hosting-helpers.js';
import { AS_RUNNER, FIXTURES, removeDir, tempDir } from '../helpers.js';

const ENVIRON = `import json
import os


def application(environ, start_response):
    out = {k: environ.get(k) for k in ("SERVER_NAME", "DOCUMENT_ROOT", "SCRIPT_NAME")}
    out["SITE_ENV"] = os.environ.get("SITE_ENV")
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(out).encode()]
`;

/** A folder per site, each with env.py, counter.py (and its helper), index.html naming the site, and a secret. */
function populate(base: string): Record<string, string> {
  const roots: Record<string, string> = {};
  for (const name of ['main', 'shop', 'blog']) {
    const root = path.join(base, name);
    mkdirSync(root);
    writeFileSync(path.join(root, 'env.py'), ENVIRON);
    for (const f of ['counter.py', 'wsgi_check.py', 'sleepy.py'])
      copyFileSync(path.join(FIXTURES, f), path.join(root, f));
    writeFileSync(path.join(root, 'index.html'), name);
    writeFileSync(path.join(root, 'home.html'), `${name} home`);
    writeFileSync(path.join(root, 'app.db'), 'secret');
    writeFileSync(path.join(root, 'data.csv'), 'a,b');
    roots[name] = root;
  }
  return roots;
}

function hostingConfig(roots: Record<string, string>, extra: Record<string, unknown> = {}): Config {
  return makeConfig({
    root: roots.main,
    port: 0,
    ...AS_RUNNER,
    deny: ['*.db'],
    env: { SITE_ENV: 'top' },
    sites: [
      {
        name: 'shop',
        hosts: ['shop.test', 'www.shop.test'],
        root: roots.shop,
        'max-body': '10',
        'request-timeout': 0.5,
        env: { SITE_ENV: 'shop' },
      },
      { name: 'blog', hosts: ['*.blog.test'], root: roots.blog, index: ['home.html'], deny: ['*.csv'], threads: 1 },
    ] as never,
    ...extra,
  });
}

describe('sites by Host', () => {
  let base: string;
  let roots: Record<string, string>;
  let s: RunningServer;
  beforeAll(async () => {
    base = tempDir('pypages-sites-');
    roots = populate(base);
    s = await startPypages(hostingConfig(roots), { log: memoryLogger() });
  });
  afterAll(async () => {
    await s?.close();
    removeDir(base);
  });

  it('serves each site from its own root: exact, case-insensitive, wildcard, unknown → default', async () => {
    expect((await get(s, 'shop.test', '/')).text).toBe('shop');
    expect((await get(s, 'WWW.Shop.Test:80', '/')).text).toBe('shop');
    expect((await get(s, 'a.blog.test', '/')).text).toBe('blog home');
    expect((await get(s, 'unknown.test', '/')).text).toBe('main');
  });

  it("gives pages their site's DOCUMENT_ROOT, SERVER_NAME and env", async () => {
    const shop = JSON.parse((await get(s, 'www.shop.test', '/env.py')).text);
    expect(shop).toEqual({
      SERVER_NAME: 'shop.test',
      DOCUMENT_ROOT: roots.shop,
      SCRIPT_NAME: '/env.py',
      SITE_ENV: 'shop',
    });
    const blog = JSON.parse((await get(s, 'x.blog.test:8000', '/env.py')).text);
    expect(blog).toMatchObject({ SERVER_NAME: 'x.blog.test', DOCUMENT_ROOT: roots.blog, SITE_ENV: 'top' });
  });

  it('applies per-site settings: max-body, index and deny (added to the top-level deny)', async () => {
    expect((await get(s, 'shop.test', '/env.py', 'more than ten bytes')).status).toBe(413);
    expect((await get(s, 'a.blog.test', '/env.py', 'more than ten bytes')).status).toBe(200);
    expect((await get(s, 'shop.test', '/app.db')).status).toBe(404);
    expect((await get(s, 'a.blog.test', '/app.db')).status).toBe(404);
    expect((await get(s, 'shop.test', '/data.csv')).status).toBe(200);
    expect((await get(s, 'a.blog.test', '/data.csv')).status).toBe(404);
  });

  it("applies a site's limits to its own groups: request-timeout", async () => {
    expect((await get(s, 'shop.test', '/sleepy.py?s=3')).status).toBe(504);
    expect(await get(s, 'a.blog.test', '/sleepy.py?s=1')).toEqual({ status: 200, text: 'v1' });
  });

  it('never shares a group between sites: the same script path counts apart, and the status names the site', async () => {
    const count = async (host: string) => Number((await get(s, host, '/counter.py')).text.split(' ')[0]);
    expect([await count('shop.test'), await count('shop.test'), await count('a.blog.test')]).toEqual([1, 2, 1]);
    const groups = s.groups.status().filter((g) => g.label === 'counter.py');
    expect(groups.map((g) => g.site).sort()).toEqual(['blog', 'shop']);
    expect(groups.find((g) => g.site === 'blog')?.processes[0].pid).not.toBe(
      groups.find((g) => g.site === 'shop')?.processes[0].pid,
    );
  });
});

describe('default-site: reject', () => {
  let base: string;
  let s: RunningServer;
  beforeAll(async () => {
    base = tempDir('pypages-sites-');
    s = await startPypages(hostingConfig(populate(base), { defaultSite: 'reject' }), { log: memoryLogger() });
  });
  afterAll(async () => {
    await s?.close();
    removeDir(base);
  });

  it('answers an unknown host 421 Misdirected Request, and a known one as usual', async () => {
    const refused = await get(s, 'unknown.test', '/');
    expect(refused.status).toBe(421);
    expect(refused.text).toMatch(/^421 Misdirected Request/);
    expect((await get(s, 'shop.test', '/')).text).toBe('shop');
  });
});
