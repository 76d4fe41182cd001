// .pypages.yaml with the real server: allowed keys take effect for the
// folder and below at the next request; a refused key or a broken file makes
// its folder answer 500 with the file and key in the log; the file itself is
// never served; without allow-override no file is read.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveTempRoot, type TestServer } from '../helpers.js';

const PAGE = `def application(environ, start_response):
    n = len(environ["wsgi.input"].read())
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(n).encode()]
`;

function populate(root: string): void {
  const files: Record<string, string> = {
    'note.txt': 'root note',
    'page.py': PAGE,
    'a/.pypages.yaml': 'index: [home.html]\ndeny: ["*.txt", /private/**]\n',
    'a/home.html': 'a home',
    'a/note.txt': 'a note',
    'a/b/note.txt': 'b note',
    'a/b/ok.html': 'ok',
    'a/private/x.html': 'private',
    'up/.pypages.yaml': 'max-body: 10\n',
    'up/page.py': PAGE,
    'refused/.pypages.yaml': 'port: 80\n',
    'refused/sub/page.html': 'never',
    'broken/.pypages.yaml': 'index: [\n',
    'broken/page.html': 'never',
    'later/page.html': 'later',
  };
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.join(root, path.dirname(file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
}

describe('.pypages.yaml with allow-override', () => {
  let s: TestServer;
  const status = async (url: string, init?: RequestInit) => (await s.get(url, init)).status;
  beforeAll(async () => {
    s = await serveTempRoot(populate, { allowOverride: ['index', 'deny', 'max-body'] } as never);
  });
  afterAll(() => s.stop());

  it('sets index and deny for its folder and below, not above', async () => {
    expect(await (await s.get('/a/')).text()).toBe('a home');
    expect(await status('/a/note.txt')).toBe(404);
    expect(await status('/a/b/note.txt')).toBe(404);
    expect(await status('/a/private/x.html')).toBe(404);
    expect(await status('/a/b/ok.html')).toBe(200);
    expect(await status('/note.txt')).toBe(200);
  });

  it('sets max-body for its folder', async () => {
    const post = { method: 'POST', body: 'twenty bytes of body' };
    expect(await status('/up/page.py', post)).toBe(413);
    expect(await (await s.get('/page.py', post)).text()).toBe('20');
  });

  it('is never served (in a broken folder: the 500 page, not the file)', async () => {
    for (const url of ['/a/.pypages.yaml', '/up/.pypages.yaml']) expect(await status(url)).toBe(404);
    const broken = await s.get('/refused/.pypages.yaml');
    expect(broken.status).toBe(500);
    expect(await broken.text()).not.toContain('port: 80');
  });

  it('answers 500 below a file with a key it may not set, or that does not parse, naming file and key in the log', async () => {
    expect(await status('/refused/sub/page.html')).toBe(500);
    expect(s.log.errors.join('\n')).toContain(
      `${path.join(s.root, 'refused/.pypages.yaml')}: port: not allowed in a folder's .pypages.yaml (allow-override: index, deny, max-body)`,
    );
    expect(await status('/broken/page.html')).toBe(500);
    expect(s.log.errors.join('\n')).toContain(`${path.join(s.root, 'broken/.pypages.yaml')}: invalid YAML`);
    expect(await status('/a/home.html')).toBe(200);
  });

  it('takes an edit at the next request', async () => {
    expect(await status('/later/page.html')).toBe(200);
    writeFileSync(path.join(s.root, 'later/.pypages.yaml'), 'deny: [page.*]\n');
    expect(await status('/later/page.html')).toBe(404);
    writeFileSync(path.join(s.root, 'later/.pypages.yaml'), 'debug: true\n');
    expect(await status('/later/page.html')).toBe(500);
  });
});

describe('.pypages.yaml without allow-override', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await serveTempRoot(populate);
  });
  afterAll(() => s.stop());

  it('is not read (Apache AllowOverride None), and still never served', async () => {
    expect((await s.get('/a/note.txt')).status).toBe(200);
    expect((await s.get('/refused/sub/page.html')).status).toBe(200);
    expect((await s.get('/a/.pypages.yaml')).status).toBe(404);
  });
});

const ENV_PAGE = `import os

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    names = ("APP_MODE", "SHARED", "HOME_MADE")
    return [" ".join([str(os.getpid())] + [os.environ.get(n, "-") for n in names]).encode()]
`;
const BOOM = `def application(environ, start_response):
    secret_local = "only the dev page shows this"
    return 1 / 0
`;

function populateEnvDev(root: string): void {
  const files: Record<string, string> = {
    'env.py': ENV_PAGE,
    'e/.pypages.yaml': 'env: {APP_MODE: folder, SHARED: mine}\n',
    'e/env.py': ENV_PAGE,
    'e/deeper/.pypages.yaml': 'env: {HOME_MADE: deeper}\n',
    'e/deeper/env.py': ENV_PAGE,
    'edited/.pypages.yaml': 'env: {APP_MODE: one}\n',
    'edited/env.py': ENV_PAGE,
    'refused/.pypages.yaml': 'env: {LD_PRELOAD: /tmp/evil.so}\n',
    'refused/env.py': ENV_PAGE,
    'boom.py': BOOM,
    'quiet/.pypages.yaml': 'dev: false\n',
    'quiet/boom.py': BOOM,
    'quiet/loud/.pypages.yaml': 'dev: true\n',
    'quiet/loud/boom.py': BOOM,
  };
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.join(root, path.dirname(file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
}

describe('.pypages.yaml env and dev', () => {
  let s: TestServer;
  const text = async (url: string) => (await s.get(url)).text();
  const HTML = { headers: { Accept: 'text/html' } };
  beforeAll(async () => {
    const operator = { env: { SHARED: 'operator' }, grouping: 'global', dev: true };
    s = await serveTempRoot(populateEnvDev, { allowOverride: ['env', 'dev'], ...operator } as never);
  });
  afterAll(() => s.stop());

  it("adds a folder's variables for its pages (deeper files too), never the operator's, in groups of their own", async () => {
    const [rootPid, ...rootEnv] = (await text('/env.py')).split(' ');
    expect(rootEnv).toEqual(['-', 'operator', '-']);
    const [folderPid, ...folderEnv] = (await text('/e/env.py')).split(' ');
    expect(folderEnv).toEqual(['folder', 'operator', '-']);
    expect((await text('/e/deeper/env.py')).split(' ').slice(1)).toEqual(['folder', 'operator', 'deeper']);
    // grouping: global, yet the folder's pages run in another process: no other page sees its variables.
    expect(folderPid).not.toBe(rootPid);
    expect((await text('/env.py')).split(' ')).toEqual([rootPid, ...rootEnv]);
  });

  it('takes an edited env at the next request', async () => {
    expect((await text('/edited/env.py')).split(' ')[1]).toBe('one');
    writeFileSync(path.join(s.root, 'edited/.pypages.yaml'), 'env: {APP_MODE: two}\n');
    expect((await text('/edited/env.py')).split(' ')[1]).toBe('two');
  });

  it('refuses a variable read before the page runs: 500 for the folder, file and name in the log', async () => {
    const res = await s.get('/refused/env.py');
    expect(res.status).toBe(500);
    expect(s.log.errors.join('\n')).toContain(`${path.join(s.root, 'refused/.pypages.yaml')}: env: LD_PRELOAD:`);
  });

  it("turns development mode off for a folder and below, and back to the site's below that", async () => {
    const dev = async (url: string) => {
      const res = await s.get(url, HTML);
      expect(res.status).toBe(500);
      return (await res.text()).includes('only the dev page shows this');
    };
    expect(await dev('/boom.py')).toBe(true);
    expect(await dev('/quiet/boom.py')).toBe(false);
    expect(await dev('/quiet/loud/boom.py')).toBe(true);
    // A folder without an index: development mode lists it, a folder that turned it off answers 404.
    expect((await s.get('/quiet/loud/')).status).toBe(200);
    expect((await s.get('/quiet/')).status).toBe(404);
  });
});

describe('.pypages.yaml dev on a site without development mode', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await serveTempRoot(populateEnvDev, { allowOverride: ['dev'], dev: false } as never);
  });
  afterAll(() => s.stop());

  it('never turns it on', async () => {
    const res = await s.get('/quiet/loud/boom.py', { headers: { Accept: 'text/html' } });
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain('only the dev page shows this');
  });
});

describe('the path memory of a site whose folders have settings', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await serveTempRoot(
      (root) => {
        mkdirSync(path.join(root, 'idx'));
        writeFileSync(path.join(root, 'idx/.pypages.yaml'), 'index: [a.html]\n');
        writeFileSync(path.join(root, 'idx/a.html'), 'a');
        writeFileSync(path.join(root, 'idx/b.html'), 'b');
        writeFileSync(path.join(root, 'idx/page.py'), PAGE);
      },
      { allowOverride: ['index', 'deny'] } as never,
    );
  });
  afterAll(() => s.stop());

  // lib/http/resolve-cache.ts remembers a path's answer for a second; a site that allows overrides
  // resolves every request instead, or an edit would wait for the memory to expire.
  it('is not used: an edited .pypages.yaml holds for the very next request of a path just answered', async () => {
    for (let round = 0; round < 3; round++) {
      const [index, other] = round % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
      expect(await (await s.get('/idx/')).text()).toBe(index);
      expect((await s.get('/idx/page.py')).status).toBe(200);
      writeFileSync(path.join(s.root, 'idx/.pypages.yaml'), `index: [${other}.html]\ndeny: [page.py]\n`);
      expect(await (await s.get('/idx/')).text()).toBe(other);
      expect((await s.get('/idx/page.py')).status).toBe(404);
      writeFileSync(path.join(s.root, 'idx/.pypages.yaml'), `index: [${other}.html]\n`);
    }
  });
});
