// The banner: the pages found (a bounded walk), the URLs, the Python and the config file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { chownSync } from 'node:fs';
import type { Site } from '../../../lib/site/site.js';
import { bannerLines, findPages, httpUserLine, rootPagesNote, tenancyLine } from '../../../server/banner.js';
import { removeDir, tempDir } from '../../helpers.js';

let root: string | undefined;
afterEach(() => removeDir(root));

describe('banner', () => {
  it('finds the pages, top folder first, and the frameworks they import; skips helpers and hidden folders', () => {
    root = tempDir('pypages-banner-');
    mkdirSync(join(root, 'sub'));
    mkdirSync(join(root, '.venv'));
    writeFileSync(join(root, 'sub', 'a.py'), 'from flask import Flask\napp = Flask(__name__)\napplication = app\n');
    writeFileSync(join(root, 'z.py'), 'def application(e, s):\n    return []\n');
    writeFileSync(join(root, 'helper.py'), 'X = 1\n');
    writeFileSync(join(root, '.venv', 'b.py'), 'def application(e, s):\n    return []\n');
    expect(findPages(root)).toEqual({ pages: ['/z.py', '/sub/a.py'], frameworks: ['flask'] });
  });

  it('says where to go, with which Python and config', () => {
    const lines = bannerLines({
      url: 'http://127.0.0.1:8000/',
      host: '0.0.0.0',
      port: 8000,
      scheme: 'http',
      root: '/srv/www',
      python: '/usr/bin/python3',
      version: '3.11.2',
      configFile: '/srv/pypages.yaml',
      dev: false,
      found: { pages: ['/a b.py'], frameworks: [] },
      tenancy: ['pages run as www'],
    });
    expect(lines[0]).toMatch(/^pypages: serving \/srv\/www at http:\/\/127\.0\.0\.1:8000\//);
    expect(lines.join('\n')).not.toContain('0.0.0.0');
    expect(lines[1]).toBe('pypages: Python 3.11.2 (/usr/bin/python3); config: /srv/pypages.yaml');
    expect(lines).toContain('  http://127.0.0.1:8000/a%20b.py');
    expect(lines[2]).toBe('pypages: pages run as www');
  });

  it("says who pages run as: the server's own user, or their owners when started as root", () => {
    expect(tenancyLine('none', false, 'amy')).toBe(
      "pages run as amy, the server's own user: they can read and signal what it can (start as root for one user per tenant)",
    );
    expect(tenancyLine('cgroup v1 (memory, cpu, pids)', true)).toBe(
      'pages run as their owners (the user setting), never as root unless allow-root-pages; cgroups: cgroup v1 (memory, cpu, pids)',
    );
  });

  it('says who serves HTTP when started as root: the server-user, or a warning for root; nothing otherwise', () => {
    const side = { serverUser: 'www-data' } as Parameters<typeof httpUserLine>[0];
    expect(httpUserLine(side, 33)).toEqual([
      'HTTP is served as www-data, without privileges; a root launcher starts the workers',
    ]);
    expect(httpUserLine(null, 0, undefined)[0]).toMatch(/^warning: HTTP is served as root \(.*\): .*set server-user$/);
    expect(httpUserLine(null, 0, 'folder /root (mode 0700) may not be passed through')).toEqual([
      'warning: HTTP is served as root, since the default server-user cannot: folder /root (mode 0700) may not be passed through',
    ]);
    expect(httpUserLine(null, 1000)).toEqual([]);
  });

  it('warns at start, as root, of pages owned by root (they answer 500), unless root pages are allowed', () => {
    root = tempDir('pypages-banner-');
    writeFileSync(join(root, 'mine.py'), 'def application(e, s):\n    return []\n');
    writeFileSync(join(root, 'theirs.py'), 'def application(e, s):\n    return []\n');
    const asRoot = process.getuid?.() === 0;
    if (asRoot) chownSync(join(root, 'theirs.py'), 65534, 65534);
    const site = { root, allowRootPages: false } as Site;
    const pages = ['/mine.py', '/theirs.py'];
    const note = rootPagesNote(site, pages, true);
    if (asRoot)
      expect(note).toEqual([expect.stringMatching(/^1 page\(s\) here are owned by root and will answer 500: /)]);
    else expect(note).toEqual([]); // nothing here is root's
    expect(rootPagesNote({ ...site, allowRootPages: true }, pages, true)).toEqual([]);
    expect(rootPagesNote(site, pages, false)).toEqual([]);
  });
});
