// Shared hosting through the pypages command (supervisor and server, as a
// user runs it): --check, the banner, per-site log files reopened on
// SIGUSR1, and SIGHUP adding and removing a site under load.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { hostGet } from '../hosting-helpers.js';
import { AS_RUNNER_ARGS, FIXTURES, removeDir, stopChild, tempDir, waitFor } from '../helpers.js';

const CLI = new URL('../../dist/server/cli.js', import.meta.url).pathname;
const run = promisify(execFile);
let child: ChildProcess | null = null;
let base: string | undefined;
afterEach(async () => {
  await stopChild(child);
  child = null;
  removeDir(base);
  base = undefined;
});

/** base/{main,shop,blog} with printer.py, counter.py and an index naming the site; base/logs. */
function hostingTree(): string {
  const dir = tempDir('pypages-hosting-');
  base = dir;
  for (const name of ['main', 'shop', 'blog']) {
    mkdirSync(path.join(dir, name));
    for (const f of ['printer.py', 'counter.py', 'wsgi_check.py'])
      copyFileSync(path.join(FIXTURES, f), path.join(dir, name, f));
    writeFileSync(path.join(dir, name, 'index.html'), name);
  }
  mkdirSync(path.join(dir, 'logs'));
  return dir;
}

const SHOP = '  - name: shop\n    hosts: [shop.test]\n    root: shop\n';
const BLOG = '  - name: blog\n    hosts: ["*.blog.test"]\n    root: blog\n';

async function exitOf(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { cwd, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return e;
  }
}

/** Starts the command in `cwd` (its pypages.yaml); resolves once it says where it serves. */
async function start(cwd: string) {
  child = spawn(process.execPath, [CLI, '--port', '0', ...AS_RUNNER_ARGS], { stdio: ['ignore', 'pipe', 'pipe'], cwd });
  let [out, err] = ['', ''];
  child.stderr!.on('data', (d) => (err += d));
  child.stdout!.on('data', (d) => (out += d));
  const port = await waitFor(() => /at http:\/\/127\.0\.0\.1:(\d+)\//.exec(out)?.[1], 'the server to listen', 30_000);
  return { port: Number(port), stdout: () => out, stderr: () => err };
}

describe('pypages --check', () => {
  it('exits 0 for a good config, naming the file and every site with its hosts and root', async () => {
    const dir = hostingTree();
    writeFileSync(path.join(dir, 'pypages.yaml'), `root: main\nsites:\n${SHOP}${BLOG}access-log: logs/{site}.log\n`);
    const { code, stdout } = await exitOf(['--check'], dir);
    expect(code).toBe(0);
    expect(stdout).toContain(`configuration: ${path.join(dir, 'pypages.yaml')}`);
    expect(stdout).toContain(`site shop: shop.test → ${path.join(dir, 'shop')}`);
    expect(stdout).toContain(`site blog: *.blog.test → ${path.join(dir, 'blog')}`);
    expect(stdout).toContain('configuration OK');
  });

  it('exits 2 listing every problem: a missing Python, an unwritable log folder, a host listed twice, a bad .pypages.yaml', async () => {
    const dir = hostingTree();
    const blog =
      '  - name: blog\n    hosts: [shop.test]\n    root: blog\n    error-log: nowhere/{site}.err\n    allow-override: [index]\n';
    mkdirSync(path.join(dir, 'blog', 'deep'));
    writeFileSync(path.join(dir, 'blog', 'deep', '.pypages.yaml'), 'debug: true\n');
    const yaml = `root: main\nsites:\n${SHOP}    python: /nonexistent/python3\n${blog}`;
    writeFileSync(path.join(dir, 'pypages.yaml'), yaml);
    const { code, stderr } = await exitOf(['--check'], dir);
    expect(code).toBe(2);
    expect(stderr).toMatch(/site shop: python: .*\/nonexistent\/python3/);
    expect(stderr).toContain(`site blog: error-log: cannot write in ${path.join(dir, 'nowhere')}`);
    expect(stderr).toContain('host shop.test is listed by sites shop and blog');
    expect(stderr).toContain(`site blog: ${path.join(dir, 'blog/deep/.pypages.yaml')}: debug: not allowed`);
  });

  it('exits 2 for an invalid file, naming the file, site and key', async () => {
    const dir = hostingTree();
    writeFileSync(path.join(dir, 'pypages.yaml'), `root: main\nsites:\n${SHOP}    max-body: lots\n`);
    const { code, stderr } = await exitOf(['--check'], dir);
    expect(code).toBe(2);
    expect(stderr).toMatch(/pypages\.yaml: sites: .*sites\[0\]\.max-body must be a size/);
  });
});

describe('per-site log files', () => {
  it("writes a site's access lines and page output to its own files; SIGUSR1 reopens them and loses no line", async () => {
    const dir = hostingTree();
    const logs =
      'access-log: logs/{site}.access.log\nerror-log: logs/{site}.error.log\naccess-log-format: vhost-combined\n';
    writeFileSync(path.join(dir, 'pypages.yaml'), `root: main\nsites:\n${SHOP}${logs}`);
    const s = await start(dir);
    const site = `site shop: shop.test → ${path.join(dir, 'shop')}`;
    await waitFor(() => s.stdout().includes(site), `the banner's site line (it may come after "serving")`);
    const file = (name: string) => path.join(dir, 'logs', name);
    const read = (name: string) => (existsSync(file(name)) ? readFileSync(file(name), 'utf8') : '');
    expect((await hostGet(s, 'shop.test', '/printer.py')).status).toBe(200);
    await waitFor(() => read('shop.error.log').includes('written to wsgi.errors'), 'page output in the site error log');
    expect(read('shop.error.log')).toContain('printed by the page');
    await waitFor(
      () => /"GET \/printer\.py HTTP\/1\.1" 200 2 .* shop \d+\n$/.test(read('shop.access.log')),
      'the access line',
    );
    for (let i = 0; i < 10; i++) await hostGet(s, 'shop.test', `/?before=${i}`);
    renameSync(file('shop.access.log'), file('shop.access.log.1'));
    child!.kill('SIGUSR1');
    await waitFor(() => s.stderr().includes('log files reopened'), 'the reopen', 10_000);
    for (let i = 0; i < 10; i++) await hostGet(s, 'shop.test', `/?after=${i}`);
    await waitFor(() => (read('shop.access.log').match(/after=/g) ?? []).length === 10, 'lines in the new file');
    const old = read('shop.access.log.1');
    for (let i = 0; i < 10; i++) expect(old).toContain(`/?before=${i} `);
    expect(old).not.toContain('after=');
    expect(read('shop.access.log')).not.toContain('before=');
    expect(read('main.access.log')).toBe('');
  }, 60_000);
});

describe('SIGHUP with sites', () => {
  it('adds and removes a site under load without a failed request', async () => {
    const dir = hostingTree();
    writeFileSync(path.join(dir, 'pypages.yaml'), `root: main\nsites:\n${SHOP}`);
    const s = await start(dir);
    const failures: string[] = [];
    let [done, answers] = [false, 0];
    const load = async (host: string) => {
      const until = Date.now() + 40_000;
      for (let i = 0; i < 5000 && !done && Date.now() < until; i++) {
        const res = await hostGet(s, host, '/counter.py').catch((e: Error) => ({ status: 0, text: e.message }));
        if (res.status !== 200) failures.push(`${host}: ${res.status} ${res.text}`);
        answers++;
      }
    };
    const runs = ['shop.test', 'a.blog.test', 'other.test'].map(load);
    await waitFor(() => answers > 30, 'answers under load', 20_000);
    expect((await hostGet(s, 'a.blog.test', '/')).text).toBe('main');
    writeFileSync(path.join(dir, 'pypages.yaml'), `root: main\nsites:\n${BLOG}`);
    child!.kill('SIGHUP');
    await waitFor(() => s.stderr().includes('configuration reloaded'), 'the reload', 30_000);
    expect((await hostGet(s, 'a.blog.test', '/')).text).toBe('blog');
    expect((await hostGet(s, 'shop.test', '/')).text).toBe('main');
    const after = answers;
    await waitFor(() => answers > after + 30, 'answers after the reload', 20_000);
    done = true;
    await Promise.all(runs);
    expect(failures).toEqual([]);
  }, 90_000);
});
