// User folders with real system users: created by the test under a
// temporary home (useradd, as root), removed after (userdel). Never touches
// an existing user. Skipped, saying why, when not root.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfig } from '../../lib/config/config.js';
import { memoryLogger } from '../../lib/util/log.js';
import { startPypages, type RunningServer } from '../../server/app.js';
import { hostGet } from '../hosting-helpers.js';
import { removeDir, tempDir } from '../helpers.js';

const isRoot = process.getuid?.() === 0;
const tag = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
const USERS = { alice: `ppa${tag}`, bob: `ppb${tag}`, carol: `ppc${tag}` };

const PAGE = `def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("%s|%s|%s" % (environ["SCRIPT_NAME"], environ["PATH_INFO"], environ["DOCUMENT_ROOT"])).encode()]
`;

function addUser(name: string, home: string): void {
  execFileSync('useradd', [
    '--home-dir',
    home,
    '--no-create-home',
    '--no-user-group',
    '--shell',
    '/usr/sbin/nologin',
    name,
  ]);
}

describe.skipIf(!isRoot)('user folders (real system users)', () => {
  let base: string;
  let s: RunningServer;
  const added: string[] = [];
  beforeAll(async () => {
    base = tempDir('pypages-homes-');
    chmodSync(base, 0o755);
    for (const [who, name] of Object.entries(USERS)) {
      const home = path.join(base, name);
      if (who !== 'carol') mkdirSync(path.join(home, 'public_html', 'sub'), { recursive: true });
      else mkdirSync(home);
      addUser(name, home);
      added.push(name);
    }
    writeFileSync(path.join(base, USERS.alice, 'public_html', 'page.py'), PAGE);
    writeFileSync(path.join(base, USERS.alice, 'public_html', 'index.html'), 'alice home');
    writeFileSync(path.join(base, USERS.bob, 'public_html', 'index.html'), 'bob home');
    mkdirSync(path.join(base, 'root'));
    writeFileSync(path.join(base, 'root', 'index.html'), 'main');
    const config = makeConfig({
      root: path.join(base, 'root'),
      port: 0,
      userdir: 'public_html',
      userdirDeny: [USERS.bob],
    });
    s = await startPypages(config, { log: memoryLogger() });
  });
  afterAll(async () => {
    await s?.close();
    for (const name of added) execFileSync('userdel', [name]);
    removeDir(base);
  });

  it("serves /~user/ from the user's public_html, with /~user in SCRIPT_NAME", async () => {
    const a = USERS.alice;
    expect((await hostGet(s, 'x.test', `/~${a}/`)).text).toBe('alice home');
    const page = await hostGet(s, 'x.test', `/~${a}/page.py/more?q=1`);
    expect(page.text).toBe(`/~${a}/page.py|/more|${path.join(base, a, 'public_html')}`);
    const redirect = await hostGet(s, 'x.test', `/~${a}/sub`);
    expect(redirect.status).toBe(301);
    expect((await hostGet(s, 'x.test', `/~${a}`)).status).toBe(301);
  });

  it("runs each user's scripts in that user's own site and group", async () => {
    await hostGet(s, 'x.test', `/~${USERS.alice}/page.py`);
    expect(s.groups.status().find((g) => g.label === 'page.py')?.site).toBe(`~${USERS.alice}`);
  });

  it('has none for a denied user, a user without the folder, an unknown user, or root', async () => {
    for (const name of [USERS.bob, USERS.carol, `nobody${tag}`, 'root'])
      expect((await hostGet(s, 'x.test', `/~${name}/`)).status, name).toBe(404);
    expect((await hostGet(s, 'x.test', '/')).text).toBe('main');
  });
});

describe.runIf(!isRoot)('user folders', () => {
  it('need root to create test users: skipped (run the suite as root, as CI does)', () => {
    expect(isRoot).toBe(false);
  });
});
