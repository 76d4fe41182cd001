// pypages --check, the command as an operator runs it, on a configuration
// with many problems: every one is listed (each bad key of pypages.yaml,
// each flag, each site's keys, each key of every .pypages.yaml under the
// roots, a user folder's too), then it exits 2. As nginx -t, not one per run.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { removeDir, tempDir } from '../helpers.js';
import { isRoot, makeTestUsers, type TestUsers } from '../tenant-users.js';

const CLI = new URL('../../dist/server/cli.js', import.meta.url).pathname;
const run = promisify(execFile);
let base: string | undefined;
let users: TestUsers | undefined;
afterEach(() => {
  removeDir(base);
  users?.remove();
  [base, users] = [undefined, undefined];
});

async function check(args: string[], cwd: string): Promise<{ code: number; lines: string[] }> {
  try {
    await run(process.execPath, [CLI, '--check', ...args], { cwd, timeout: 30_000 });
    return { code: 0, lines: [] };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, lines: e.stderr.trim().split('\n') };
  }
}

/** base/main and base/shop, each with `files` (path → text). */
function tree(files: Record<string, string>): string {
  const dir = tempDir('pypages-check-');
  base = dir;
  for (const [file, text] of Object.entries({ 'main/index.html': 'main', 'shop/index.html': 'shop', ...files })) {
    mkdirSync(path.join(dir, path.dirname(file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

const CONFIG = `root: main
max-body: lots
thread: 3
allow-override: [index, env, dev]
sites:
  - name: shop
    hosts: [shop.test]
    root: shop
    debug: maybe
    procesess: 2
    allow-override: [env]
  - name: blog
    hosts: [blog.test]
    root: nowhere
`;

describe('pypages --check with many problems', () => {
  it('lists every one (settings, flags, site keys, every key of every .pypages.yaml), then exits 2', async () => {
    const dir = tree({
      'pypages.yaml': CONFIG,
      'main/a/.pypages.yaml': 'dev: sure\nindex: 3\n',
      'main/a/b/.pypages.yaml': 'env: {LD_PRELOAD: /tmp/x.so}\n',
      'shop/deep/.pypages.yaml': 'index: [x.html]\nport: 80\n',
    });
    const { code, lines } = await check(['--port', 'x'], dir);
    expect(code).toBe(2);
    const file = (rel: string) => path.join(dir, rel, '.pypages.yaml');
    expect(lines).toEqual([
      expect.stringMatching(/^pypages: pypages\.yaml: max-body: must be a size/),
      expect.stringMatching(/^pypages: pypages\.yaml: unknown key "thread";.* Did you mean "threads"\?$/),
      expect.stringMatching(/^pypages: pypages\.yaml: sites: sites\[0\]\.debug must be true or false \(got "maybe"\)$/),
      expect.stringMatching(/^pypages: pypages\.yaml: sites: sites\[0\] has unknown key "procesess"/),
      expect.stringMatching(/^pypages: pypages\.yaml: sites: sites\[1\]\.root must be an existing directory/),
      'pypages: --port: must be an integer from 0 to 65535 (got "x")',
      `pypages: site default: ${file('main/a')}: dev: must be true, false or "auto"`,
      expect.stringMatching(new RegExp(`^pypages: site default: ${file('main/a')}: index: must be a non-empty list`)),
      expect.stringMatching(
        new RegExp(`^pypages: site default: ${file('main/a/b')}: env: LD_PRELOAD: a folder may not`),
      ),
      `pypages: site shop: ${file('shop/deep')}: index: not allowed in a folder's .pypages.yaml (allow-override: env)`,
      `pypages: site shop: ${file('shop/deep')}: port: not allowed in a folder's .pypages.yaml (allow-override: env)`,
    ]);
  });

  it('says so and exits 2 when only a .pypages.yaml is wrong; 0 once it is fixed', async () => {
    const dir = tree({ 'pypages.yaml': 'root: main\nallow-override: [env]\n', 'main/.pypages.yaml': 'env: [x]\n' });
    expect((await check([], dir)).code).toBe(2);
    writeFileSync(path.join(dir, 'main/.pypages.yaml'), 'env: {APP_MODE: test}\n');
    expect(await check([], dir)).toEqual({ code: 0, lines: [] });
  });
});

describe.skipIf(!isRoot)('pypages --check with user folders (real system users; needs root)', () => {
  it("checks every user folder's .pypages.yaml files", async () => {
    users = makeTestUsers(['alice']);
    const alice = users.users.alice;
    const html = path.join(alice.home, 'public_html');
    mkdirSync(path.join(html, 'blog'), { recursive: true });
    writeFileSync(path.join(html, 'blog', '.pypages.yaml'), 'max-body: lots\n');
    const dir = tree({ 'pypages.yaml': 'root: main\nuserdir: public_html\nallow-override: [max-body]\n' });
    const { code, lines } = await check([], dir);
    expect(code).toBe(2);
    expect(lines).toContainEqual(
      expect.stringMatching(
        new RegExp(`^pypages: site ~${alice.name}: ${path.join(html, 'blog', '.pypages.yaml')}: max-body: must be`),
      ),
    );
  });
});
