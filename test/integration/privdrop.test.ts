// Started as root, the HTTP side drops root (issue 13): the server child runs
// as server-user (www-data here) with no capability, its launcher stays root
// and starts each page as its owner, spawned or forked; a root-only file is
// not sent; the log file it writes, in a root-owned folder, still works; and
// a compromised server child (test/fixtures/privdrop/hostile-child.mjs, code
// in the child speaking the launcher's protocol) is refused root, the
// server-user, system accounts, root-read variables, and signals to pid 1,
// the supervisor and the launcher, each refusal logged; TLS keys must be
// readable by the server-user, which then serves HTTPS. Through the real
// command (the compiled CLI), as real users. Skipped, saying why, when not root.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAUNCHES, removeDir, stopChild, tempDir, waitFor } from '../helpers.js';
import { rawExchange } from '../raw-client.js';
import { isRoot, makeTestUsers, type TestUsers } from '../tenant-users.js';

const CLI = new URL('../../dist/server/cli.js', import.meta.url).pathname;
const HOOK = new URL('../fixtures/privdrop/hostile-child.mjs', import.meta.url).pathname;
const WHOAMI = `import json, os
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json")])
    facts = {"uid": os.getuid(), "gid": os.getgid(), "pid": os.getpid(), "groups": sorted(os.getgroups())}
    return [json.dumps(facts).encode()]
`;
const WORKER = ['-u', '-m', 'pypages_worker', '--root', '/', '--threads', '1', '--processes', '1'];
const NOBODY = { uid: 65534, gid: 65534 };
const PY_HOME = { PYTHONHOME: '/tmp/planted' };
const www = isRoot ? { uid: id('-u', 'www-data'), gid: id('-g', 'www-data') } : { uid: -1, gid: -1 };

function id(flag: string, user: string): number {
  return Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim());
}

/** A system group (below GID_MIN) and an ordinary one, both made now with `user` in them. */
function joinGroups(user: string): { system: number; normal: number; names: string[] } {
  const tag = user.slice(2, 12);
  const names = [`ppsys${tag}`, `ppgrp${tag}`];
  execFileSync('groupadd', ['--system', names[0]]);
  execFileSync('groupadd', [names[1]]);
  for (const name of names) execFileSync('usermod', ['-aG', name, user]);
  const gid = (name: string) => Number(execFileSync('getent', ['group', name], { encoding: 'utf8' }).split(':')[2]);
  return { system: gid(names[0]), normal: gid(names[1]), names };
}

/** /proc/PID/status's fields, or null once it is gone. */
function status(pid: number): Record<string, string> | null {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'latin1');
    return Object.fromEntries(text.split('\n').map((l) => [l.split(':')[0], l.slice(l.indexOf(':') + 1).trim()]));
  } catch {
    return null;
  }
}

/** Live children of `pid` (a process that ends while /proc is read, another test's, is passed over). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((p) => status(p)?.PPid === String(pid));
}

function cmdline(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ');
}

describe.skipIf(!isRoot)('started as root, HTTP is served as server-user (needs root: skipped otherwise)', () => {
  describe.each(LAUNCHES)('launch: %s', (launch) => {
    let users: TestUsers;
    let cli: ChildProcess;
    let url: string;
    let logs: string;
    let out = '';
    let err = '';
    let groups: { system: number; normal: number; names: string[] };
    const hostile = (alice: { uid: number; gid: number }, hidden: string) => [
      { pypages: 'start', id: 901, python: '/usr/bin/python3', args: ['-c', 'pass'], cwd: '/', env: {}, user: null },
      { pypages: 'start', id: 902, python: '/usr/bin/python3', args: [], cwd: '/', env: {}, user: { uid: 0, gid: 0 } },
      { pypages: 'start', id: 903, python: '/usr/bin/python3', args: [], cwd: '/', env: {}, user: www },
      { pypages: 'start', id: 904, python: '/usr/bin/python3', args: [], cwd: '/', env: {}, user: { uid: 1, gid: 1 } },
      {
        pypages: 'start',
        id: 905,
        python: '/usr/bin/python3',
        args: [],
        cwd: '/',
        env: { LD_PRELOAD: '/tmp/x.so' },
        user: alice,
      },
      {
        pypages: 'start',
        id: 906,
        python: '/usr/bin/python3',
        args: [],
        cwd: '/',
        env: {},
        user: { ...alice, gid: 0 },
      },
      { pypages: 'start', id: 907, python: '/bin/sh', args: WORKER, cwd: '/', env: {}, user: alice },
      { pypages: 'start', id: 908, python: '/usr/bin/python3', args: ['-c', 'pass'], cwd: '/', env: {}, user: alice },
      { pypages: 'start', id: 909, python: '/usr/bin/python3', args: WORKER, cwd: '/', env: {}, user: NOBODY },
      { pypages: 'start', id: 910, python: '/usr/bin/python3', args: WORKER, cwd: '/', env: PY_HOME, user: alice },
      { pypages: 'start', id: 911, python: '/usr/bin/python3', args: WORKER, cwd: hidden, env: {}, user: alice },
      { pypages: 'signal', pid: 1, start: null, uid: 0, signal: 'SIGKILL' },
      { pypages: 'signal', pid: 'SUPERVISOR', start: null, uid: alice.uid, signal: 'SIGKILL' }, // the hook's parent
    ];

    beforeAll(async () => {
      users = makeTestUsers(['alice']);
      const { alice } = users.users;
      groups = joinGroups(alice.name);
      const root = path.join(users.base, 'www');
      const hidden = path.join(users.base, 'private', 'inner'); // under a folder only root may pass
      logs = path.join(users.base, 'logs');
      mkdirSync(path.join(root, 'alice'), { recursive: true });
      mkdirSync(path.join(root, 'shared'), { mode: 0o755 });
      chownSync(path.join(root, 'shared'), www.uid, www.gid); // a folder the server-user may write
      mkdirSync(hidden, { recursive: true });
      chmodSync(path.dirname(hidden), 0o700);
      mkdirSync(logs, { mode: 0o755 });
      for (const at of ['alice', 'shared']) {
        writeFileSync(path.join(root, at, 'whoami.py'), WHOAMI);
        users.own(alice, path.join(root, at, 'whoami.py'));
      }
      users.own(alice, path.join(root, 'alice'));
      writeFileSync(path.join(root, 'secret.txt'), 'root only\n', { mode: 0o600 });
      writeFileSync(path.join(root, 'public.txt'), 'for all\n');
      chmodSync(root, 0o755);
      const args = ['--import', HOOK, CLI, root, '--port', '0', '--launch', launch, '--python', '/usr/bin/python3'];
      cli = spawn(process.execPath, [...args, '--access-log', path.join(logs, 'access.log')], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, PYPAGES_TEST_HOSTILE: JSON.stringify(hostile(alice, hidden)) },
      });
      cli.stdout!.on('data', (d) => (out += d));
      cli.stderr!.on('data', (d) => (err += d));
      url = await waitFor(() => /serving \S+ at (http:\/\/\S+\/)/.exec(out)?.[1], 'the URL', 30_000);
    }, 60_000);

    afterAll(async () => {
      await stopChild(cli);
      users?.remove();
      for (const name of groups?.names ?? []) execFileSync('groupdel', [name]);
    });

    it('the server child runs as www-data with no capability; its launcher, its own child, stays root', async () => {
      const [server] = childrenOf(cli.pid!);
      const s = status(server)!;
      expect(s.Uid.split(/\s+/).map(Number)).toEqual([www.uid, www.uid, www.uid, www.uid]);
      expect(s.Gid.split(/\s+/).map(Number)).toEqual([www.gid, www.gid, www.gid, www.gid]);
      for (const set of ['CapPrm', 'CapEff', 'CapAmb']) expect(BigInt(`0x${s[set]}`), set).toBe(0n);
      const launcher = childrenOf(server).find((p) => cmdline(p).includes('launcher-main.js'))!;
      expect(status(launcher)!.Uid.split(/\s+/)[0]).toBe('0');
      await waitFor(() => err.includes('HTTP is served as www-data, without privileges'), 'the banner line');
    });

    it('a page runs as its owner, a child of the launcher, with its groups less the system ones', async () => {
      const res = await fetch(new URL('alice/whoami.py', url));
      expect(res.status).toBe(200);
      const facts = (await res.json()) as { uid: number; gid: number; pid: number; groups: number[] };
      expect([facts.uid, facts.gid]).toEqual([users.users.alice.uid, users.users.alice.gid]);
      expect(status(facts.pid)!.Uid.split(/\s+/).map(Number)).toEqual(Array(4).fill(users.users.alice.uid));
      expect(facts.groups).toEqual([users.users.alice.gid, groups.normal].sort((a, b) => a - b));
      expect(facts.groups).not.toContain(groups.system);
    });

    it("a page of alice's in a folder the server-user may write is not imported, and the log says why", async () => {
      const res = await fetch(new URL('shared/whoami.py', url));
      expect(res.status).toBe(500);
      const line = `${path.join(users.base, 'www', 'shared')} belongs to uid ${www.uid}`;
      await waitFor(() => err.includes(line), `the reason in the log:\n${err}`, 10_000);
    });

    it('a file only root may read is refused (403), a public one sent', async () => {
      expect((await fetch(new URL('secret.txt', url))).status).toBe(403);
      expect(await (await fetch(new URL('public.txt', url))).text()).toBe('for all\n');
    });

    it('the access log in a root-owned folder is written, the file given to www-data', async () => {
      await fetch(new URL('public.txt?logged', url));
      const file = path.join(logs, 'access.log');
      await waitFor(() => readFileSync(file, 'utf8').includes('GET /public.txt?logged'), 'the access line', 10_000);
      expect(statSync(file).uid).toBe(www.uid);
      expect(statSync(logs).uid).toBe(0);
    });

    it('a compromised server child asking for root, other users or signals to pid 1 and the supervisor is refused, and logged', async () => {
      cli.kill('SIGUSR2'); // passed on to the child, where the hostile hook sends its requests
      await waitFor(() => err.includes('"sent":13'), 'the hostile requests', 10_000);
      const answers = () =>
        [...err.matchAll(/hostile: (\{"pypages":"start-failed".*\})/g)].map((m) => JSON.parse(m[1]));
      await waitFor(() => answers().length === 10, 'ten refusals', 10_000);
      expect(answers().map((a) => a.id)).toEqual([901, 902, 903, 904, 905, 906, 907, 908, 909, 910]);
      for (const a of answers()) expect(a.error).toMatch(/^the launcher refused it: /);
      const why = answers().map((a) => a.error);
      expect(why[0]).toContain('root, without allow-root-pages');
      expect(why[2]).toContain("the server-user's own");
      expect(why[3]).toContain('a system account');
      expect(why[4]).toContain('LD_PRELOAD');
      expect(why[5]).toContain("root's group");
      expect(why[6]).toContain('/bin/sh: not a Python');
      expect(why[7]).toContain("not a pypages worker's command line: -c pass");
      expect(why[8]).toContain('uid 65534: a system account');
      expect(why[9]).toContain('PYTHONHOME');
      await waitFor(
        () => (err.match(/launcher: refused .* asked by the server/g) ?? []).length === 12,
        `twelve log lines:\n${err}`,
      );
      const entered = await waitFor(() => /hostile: (\{"pypages":"exited","id":911.*\})/.exec(err), 'its exit');
      expect(JSON.parse(entered[1]).code, 'a worker as alice in a folder alice cannot reach').toBe(71);
      expect(err).toMatch(/launcher: refused SIGKILL to pid 1 asked by the server \(pid \d+\): pid 1/);
      expect(err).toContain(`launcher: refused SIGKILL to pid ${cli.pid} asked by the server`);
      expect(cli.exitCode).toBe(null);
      expect((await fetch(new URL('public.txt', url))).status).toBe(200);
    });
  });
});

describe.skipIf(!isRoot)('started as root with cert and key (needs root: skipped otherwise)', () => {
  let dir: string;
  let cert: string;
  let key: string;
  let cli: ChildProcess | null = null;
  beforeAll(() => {
    dir = tempDir('pypages-privtls-');
    [cert, key] = [path.join(dir, 'cert.pem'), path.join(dir, 'key.pem')];
    writeFileSync(path.join(dir, 'hello.py'), WHOAMI);
    // biome-ignore format: openssl's arguments, as typed
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert],
      { stdio: 'pipe' });
  });
  afterAll(async () => {
    await stopChild(cli);
    removeDir(dir);
  });
  const run = () =>
    spawn(process.execPath, [CLI, dir, '--port', '0', '--cert', cert, '--key', key, '--allow-root-pages'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });

  it('a key only root may read: pypages does not start (exit 2) and says what to do', async () => {
    chmodSync(key, 0o600);
    const proc = run();
    let err = '';
    proc.stderr!.on('data', (d) => (err += d));
    expect(await new Promise((r) => proc.once('exit', r))).toBe(2);
    expect(err).toContain('cannot serve as the server-user www-data');
    expect(err).toContain(`${key} (mode 0600, owner uid 0, group gid 0) may not be read`);
    expect(err).toContain('chgrp www-data and chmod g+r it, or set server-user: root');
  });

  it("a key www-data's group may read: HTTPS is served by the server-user", async () => {
    chownSync(key, 0, www.gid);
    chmodSync(key, 0o640);
    cli = run();
    let out = '';
    cli.stdout!.on('data', (d) => (out += d));
    const url = await waitFor(() => /serving \S+ at (https:\/\/\S+\/)/.exec(out)?.[1], 'the URL', 30_000);
    const body = execFileSync('curl', ['-sk', new URL('hello.py', url).href], { encoding: 'utf8' });
    expect(JSON.parse(body).uid).toBe(0); // allow-root-pages: the page as root, through the launcher
    const [server] = childrenOf(cli.pid!);
    expect(status(server)!.Uid.split(/\s+/)[0]).toBe(String(www.uid));
  });
});

// `sudo pypages` over a folder only root may enter (a clone under /root, a
// mkdtemp folder): the default server-user could not serve it, so root is
// kept for HTTP with a warning saying how to drop; a server-user the config
// names is the operator's word, and such a root is refused at start.
describe.skipIf(!isRoot)(
  'started as root over a document root only root may enter (needs root: skipped otherwise)',
  () => {
    let dir: string;
    let cli: ChildProcess | null = null;
    beforeAll(() => {
      dir = tempDir('pypages-privroot-');
      writeFileSync(path.join(dir, 'hello.py'), WHOAMI);
      writeFileSync(path.join(dir, 'public.txt'), 'for all\n', { mode: 0o644 });
      mkdirSync(path.join(dir, 'closed'), { mode: 0o700 });
      chmodSync(dir, 0o700);
    });
    afterAll(async () => {
      await stopChild(cli);
      removeDir(dir);
    });
    const run = (...more: string[]) =>
      spawn(process.execPath, [CLI, dir, '--port', '0', '--allow-root-pages', ...more], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });

    it('server-user named: pypages does not start (exit 2) and names the folder', async () => {
      const proc = run('--server-user', 'www-data');
      let err = '';
      proc.stderr!.on('data', (d) => (err += d));
      expect(await new Promise((r) => proc.once('exit', r))).toBe(2);
      expect(err).toContain(`cannot serve as the server-user www-data: folder ${dir} (mode 0700, owner uid 0`);
      expect(err).toContain(`(document root ${dir})`);
    });

    it('server-user left to its default: HTTP stays root, said at start, and every request is answered', async () => {
      cli = run();
      let out = '';
      let err = '';
      cli.stdout!.on('data', (d) => (out += d));
      cli.stderr!.on('data', (d) => (err += d));
      const url = await waitFor(() => /serving \S+ at (http:\/\/\S+\/)/.exec(out)?.[1], 'the URL', 30_000);
      await waitFor(() => err.includes('warning: HTTP is served as root'), 'the warning', 10_000);
      expect(err).toContain(`since the default server-user cannot: folder ${dir} (mode 0700`);
      expect(err).toContain('chmod o+x its folders, or set server-user');
      const [server] = childrenOf(cli.pid!);
      expect(status(server)!.Uid.split(/\s+/)[0]).toBe('0');
      const port = Number(new URL(url).port);
      const page = await rawExchange(port, 'GET /hello.py HTTP/1.0\r\n\r\n', { then: 'fin' }); // 1.0: a body not chunked
      expect(page.status).toBe(200);
      expect(JSON.parse(page.bytes.toString().split('\r\n\r\n')[1]).uid).toBe(0);
      expect(page.closed).toBe(true);
      // Files are still sent only if a server without privileges could read them (lib/http/static/readable.ts).
      expect((await fetch(new URL('public.txt', url))).status).toBe(403);
      const refusal = /403: folder \S+ \(mode 0700, owner uid 0, group gid 0\) may not be passed through by others/;
      await waitFor(() => refusal.test(out + err), 'the 403 line', 5000);
      expect((await fetch(new URL('closed/nothing.txt', url))).status).toBe(404);
    });
  },
);

// A document root someone other than root controls (a tenant's, chmod 700):
// never a reason to keep HTTP root for everyone; said, and the drop goes on.
describe.skipIf(!isRoot)(
  "started as root over a document root that is not all root's (needs root: skipped otherwise)",
  () => {
    let dir: string;
    let cli: ChildProcess | null = null;
    afterAll(async () => {
      await stopChild(cli);
      removeDir(dir);
    });

    it("HTTP is served as www-data all the same, and the caller's PYPAGES_ROOT_KEPT is ignored", async () => {
      dir = tempDir('pypages-privtenant-');
      writeFileSync(path.join(dir, 'hello.py'), WHOAMI);
      chownSync(dir, NOBODY.uid, NOBODY.gid);
      chmodSync(dir, 0o700);
      cli = spawn(process.execPath, [CLI, dir, '--port', '0'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, PYPAGES_ROOT_KEPT: 'planted by the caller' },
      });
      let out = '';
      let err = '';
      cli.stdout!.on('data', (d) => (out += d));
      cli.stderr!.on('data', (d) => (err += d));
      await waitFor(() => /serving \S+ at (http:\/\/\S+\/)/.exec(out)?.[1], 'the URL', 30_000);
      await waitFor(() => err.includes('HTTP is served as www-data'), 'the banner', 10_000);
      expect(err).toContain(`folder ${dir} (mode 0700, owner uid ${NOBODY.uid}`);
      expect(err).toContain("it is not all root's, so HTTP is served as www-data all the same");
      expect(err).not.toContain('planted by the caller');
      const [server] = childrenOf(cli.pid!);
      expect(status(server)!.Uid.split(/\s+/)[0]).toBe(String(www.uid));
    });
  },
);

// The server-user meets a folder it may not enter below a root it may: a
// name there is a 404 (it cannot tell what is inside), never an error; a
// file it may not open is a 403 with a log line, as nginx's.
describe.skipIf(!isRoot)(
  'started as root, a folder inside the document root only root may enter (needs root: skipped otherwise)',
  () => {
    let dir: string;
    let cli: ChildProcess | null = null;
    afterAll(async () => {
      await stopChild(cli);
      removeDir(dir);
    });

    it('a name inside it is a 404 in development mode too, and the server-user still serves', async () => {
      dir = tempDir('pypages-privsub-');
      mkdirSync(path.join(dir, 'closed'), { mode: 0o700 });
      writeFileSync(path.join(dir, 'closed', 'inside.txt'), 'hidden\n');
      writeFileSync(path.join(dir, 'public.txt'), 'for all\n');
      // Others may read them, their owner www-data may not: the kernel refuses the server child what the mode rule allows.
      for (const [name, size] of [
        ['small.txt', 10],
        ['large.bin', 300_000],
      ] as const) {
        writeFileSync(path.join(dir, name), Buffer.alloc(size, 'x'), { mode: 0o044 });
        chownSync(path.join(dir, name), www.uid, www.gid);
      }
      cli = spawn(process.execPath, [CLI, dir, '--port', '0', '--dev'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      cli.stdout!.on('data', (d) => (out += d));
      cli.stderr!.on('data', (d) => (err += d));
      const url = await waitFor(() => /serving \S+ at (http:\/\/\S+\/)/.exec(out)?.[1], 'the URL', 30_000);
      for (const name of ['closed/inside.txt', 'closed/nothing.py', 'closed/'])
        expect((await fetch(new URL(name, url))).status, name).toBe(404);
      for (const name of ['small.txt', 'large.bin']) {
        expect((await fetch(new URL(name, url))).status, name).toBe(403);
        await waitFor(() => (out + err).includes(`${name} may not be read by the server's user www-data`), name, 5000);
      }
      expect(out + err).not.toMatch(/\|\s+at /); // no stack: nothing was thrown
      expect((await fetch(new URL('public.txt', url))).status).toBe(200);
      const [server] = childrenOf(cli.pid!);
      expect(status(server)!.Uid.split(/\s+/)[0]).toBe(String(www.uid));
    });
  },
);
