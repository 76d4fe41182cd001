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
