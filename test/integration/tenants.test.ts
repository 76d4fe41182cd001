// Tenants on a shared host, with real system users (issue 13): started as
// root, each user's pages run as that user, with a clean environment, their
// own groups and umask, and cannot touch another tenant's files, worker
// memory or processes; a page that would run as root is refused. Spawned
// and forked workers alike. Skipped, saying why, when not root.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfig } from '../../lib/config/config.js';
import { memoryLogger } from '../../lib/util/log.js';
import { startPypages, type RunningServer } from '../../server/app.js';
import { hostGet } from '../hosting-helpers.js';
import { isRoot, makeTestUsers, type TestUsers } from '../tenant-users.js';

const WHOAMI = `import json, os
def application(environ, start_response):
    mask = os.umask(0); os.umask(mask)
    facts = {"uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(), "groups": sorted(os.getgroups()),
             "env": dict(os.environ), "umask": mask, "pid": os.getpid()}
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(facts).encode()]
`;

// Tries what a hostile tenant would, against a target named in the query string.
const PROBE = `import os
def attempt(what):
    try:
        what()
        return "allowed"
    except PermissionError:
        return "denied"
    except Exception as err:
        return type(err).__name__
def application(environ, start_response):
    kind, _, target = environ["QUERY_STRING"].partition("=")
    if kind == "read":
        result = attempt(lambda: open(target, "rb").read())
    elif kind == "mem":
        result = attempt(lambda: open("/proc/%s/mem" % target, "rb").read(1))
    elif kind == "environ":
        result = attempt(lambda: open("/proc/%s/environ" % target, "rb").read())
    elif kind == "signal":
        result = attempt(lambda: os.kill(int(target), 0))
    elif kind == "forkdir":
        args = open("/proc/%d/cmdline" % os.getppid()).read().split("\\0")
        folder = os.path.dirname(args[args.index("--socket") + 1])
        result = attempt(lambda: os.mkdir(os.path.join(folder, target)))
    else:
        result = "unknown probe"
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [result.encode()]
`;

// Writes a forged "forked" event (a token no launch has) naming process PID into the page's own
// fork server's event channel, fd 4 of its zygote (its parent), taken with pidfd_getfd: the zygote
// runs as the page's user, so the kernel allows it. Node answers an unknown token by killing the pid.
const FORGE = `import ctypes, json, os
def start_of(pid):
    stat = open("/proc/%d/stat" % pid).read()
    return int(stat[stat.rindex(")") + 2:].split()[19])
def application(environ, start_response):
    pid = int(environ["QUERY_STRING"])
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = libc.syscall(434, os.getppid(), 0)  # pidfd_open
    fd = libc.syscall(438, pidfd, 4, 0) if pidfd >= 0 else -1  # pidfd_getfd
    if fd < 0:
        result = "cannot: " + os.strerror(ctypes.get_errno())
    else:
        event = {"event": "forked", "token": "a" * 32, "pid": pid, "start": start_of(pid)}
        os.write(fd, (json.dumps(event, separators=(",", ":")) + "\\n").encode())
        result = "written"
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [result.encode()]
`;

/** A GET, then the client's half of the connection closed (shutdown SHUT_WR): what comes back before the end. */
function halfClosed(port: number, target: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(`GET ${target} HTTP/1.1\r\nHost: localhost\r\n\r\n`));
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (data += d));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')));
  });
}

interface Facts {
  uid: number;
  euid: number;
  gid: number;
  groups: number[];
  env: Record<string, string>;
  umask: number;
  pid: number;
}

describe.skipIf(!isRoot)('tenants as real users (root only)', () => {
  for (const launch of ['fork', 'spawn'] as const) {
    describe(`${launch}ed workers`, () => {
      let t: TestUsers;
      let s: RunningServer;
      let root: string;
      const log = memoryLogger();
      const get = (target: string) => hostGet(s, 'localhost', target);
      const facts = async (target: string) => JSON.parse((await get(target)).text) as Facts;

      beforeAll(async () => {
        t = makeTestUsers(['alice', 'bob']);
        root = path.join(t.base, 'www');
        for (const [who, user] of Object.entries(t.users)) {
          const dir = path.join(root, who);
          mkdirSync(dir, { recursive: true });
          writeFileSync(path.join(dir, 'whoami.py'), WHOAMI);
          writeFileSync(path.join(dir, 'probe.py'), PROBE);
          writeFileSync(path.join(dir, 'forge.py'), FORGE);
          writeFileSync(path.join(dir, 'secret.txt'), `${who}'s secret`);
          chmodSync(path.join(dir, 'secret.txt'), 0o600);
          t.own(user, dir, ...['whoami.py', 'probe.py', 'forge.py', 'secret.txt'].map((f) => path.join(dir, f)));
        }
        writeFileSync(path.join(root, 'rootpage.py'), WHOAMI); // owned by root
        process.env.PYPAGES_OPERATOR_SECRET = 'hunter2';
        const config = makeConfig({ root, port: 0, launch, umask: 0o027 });
        s = await startPypages(config, { log });
      });
      afterAll(async () => {
        delete process.env.PYPAGES_OPERATOR_SECRET;
        await s?.close();
        t?.remove();
      });

      it("runs each tenant's page as its owner, with the user's groups, umask and a clean environment", async () => {
        const { alice, bob } = t.users;
        const a = await facts('/alice/whoami.py');
        expect([a.uid, a.euid, a.gid]).toEqual([alice.uid, alice.uid, alice.gid]);
        expect(a.groups).toEqual([alice.gid]);
        expect(a.umask).toBe(0o027);
        expect(a.env).toMatchObject({ HOME: alice.home, USER: alice.name, LOGNAME: alice.name });
        expect(a.env.PYPAGES_OPERATOR_SECRET).toBeUndefined();
        expect(a.env.PATH).toBe('/usr/local/bin:/usr/bin:/bin');
        expect((await facts('/bob/whoami.py')).uid).toBe(bob.uid);
        // Forked from a fork server of the tenant's own, not spawned because that failed.
        expect(log.errors.join('\n')).not.toMatch(/fork server|spawning the worker instead/);
      });

      it("keeps one tenant out of another's files, worker memory, environment and signals", async () => {
        const bobPid = (await facts('/bob/whoami.py')).pid;
        const bobSecret = path.join(root, 'bob', 'secret.txt');
        const probe = async (query: string) => (await get(`/alice/probe.py?${query}`)).text;
        expect(await probe(`read=${path.join(root, 'alice', 'secret.txt')}`)).toBe('allowed');
        expect(await probe(`read=${bobSecret}`)).toBe('denied');
        expect(await probe('read=/etc/shadow')).toBe('denied');
        expect(await probe(`mem=${bobPid}`)).toBe('denied');
        expect(await probe(`environ=${bobPid}`)).toBe('denied');
        expect(await probe(`signal=${bobPid}`)).toBe('denied');
        expect(await probe(`signal=${process.pid}`)).toBe('denied');
      });

      it.runIf(launch === 'fork')(
        "does not signal, as root, another user's process that a tenant's fork server names",
        async () => {
          const bobPid = (await facts('/bob/whoami.py')).pid;
          const rootChild = spawn('sleep', ['30'], { stdio: 'ignore' });
          try {
            for (const victim of [bobPid, rootChild.pid as number]) {
              expect((await get(`/alice/forge.py?${victim}`)).text).toBe('written');
              await new Promise((r) => setTimeout(r, 300));
              expect(() => process.kill(victim, 0), `pid ${victim} was killed`).not.toThrow();
            }
            expect(rootChild.exitCode ?? rootChild.signalCode).toBeNull();
            expect((await facts('/bob/whoami.py')).pid).toBe(bobPid); // bob's worker still serves
          } finally {
            rootChild.kill('SIGKILL');
          }
        },
      );

      // Root removes the fork server's folder recursively when the zygote ends (which the tenant can
      // bring about): were the folder the tenant's, it could swap a subfolder for a link meanwhile and
      // have root delete files anywhere (docs/review13/rimraf-race.mjs).
      it.runIf(launch === 'fork')("gives the tenant nothing to write in its fork server's folder", async () => {
        expect((await get('/alice/probe.py?forkdir=planted')).text).toBe('denied');
      });

      it('refuses a page owned by root with 500 and says why in the log', async () => {
        const res = await get('/rootpage.py');
        expect(res.status).toBe(500);
        expect(log.errors.join('\n')).toMatch(
          /rootpage\.py.*refused to run: it would run as root \(the script is owned by root\)/,
        );
      });

      it('answers that refusal to a request followed by a half-close, and serves on', async () => {
        const answer = await halfClosed(s.port, '/rootpage.py');
        expect(answer).toMatch(/^HTTP\/1\.1 500 /);
        expect((await get('/alice/whoami.py')).status).toBe(200);
      });
    });
  }
});

const HOSTILE: Record<string, string> = {
  'memory.py': `def application(environ, start_response):
    try:
        hog = bytearray(1 << 30)
        result = "allocated %d" % len(hog)
    except MemoryError:
        result = "MemoryError"
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [result.encode()]
`,
  'spin.py': `def application(environ, start_response):
    while True:
        pass
`,
  'forks.py': `import os, signal, time
def application(environ, start_response):
    children, result = [], "no limit met"
    for _ in range(200):
        try:
            pid = os.fork()
        except OSError as err:
            result = "%s after %d" % (type(err).__name__, len(children))
            break
        if pid == 0:
            time.sleep(20)
            os._exit(0)
        children.append(pid)
    for pid in children:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [result.encode()]
`,
  'files.py': `def application(environ, start_response):
    held, result = [], "no limit met"
    for _ in range(5000):
        try:
            held.append(open("/dev/null"))
        except OSError as err:
            result = "%s after %d" % (type(err).__name__, len(held))
            break
    for f in held:
        f.close()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [result.encode()]
`,
  'bigwrite.py': `import errno, os, tempfile
def application(environ, start_response):
    fd, name = tempfile.mkstemp()
    written, result = 0, "wrote 1 GiB"
    try:
        chunk = b"x" * (1 << 20)
        while written < (1 << 30):
            try:
                written += os.write(fd, chunk)
            except OSError as err:
                result = "%s after %d" % (errno.errorcode[err.errno], written)
                break
    finally:
        os.close(fd)
        os.unlink(name)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [result.encode()]
`,
};

describe.skipIf(!isRoot)('per-worker kernel limits hold a hostile tenant, and only it (root only)', () => {
  let t: TestUsers;
  let s: RunningServer;
  const get = (target: string) => hostGet(s, 'localhost', target);

  beforeAll(async () => {
    t = makeTestUsers(['alice', 'bob']);
    const root = path.join(t.base, 'www');
    for (const [who, user] of Object.entries(t.users)) {
      const dir = path.join(root, who);
      mkdirSync(dir, { recursive: true });
      const files = who === 'alice' ? { ...HOSTILE, 'whoami.py': WHOAMI } : { 'whoami.py': WHOAMI };
      for (const [name, code] of Object.entries(files)) writeFileSync(path.join(dir, name), code);
      t.own(user, dir, ...Object.keys(files).map((f) => path.join(dir, f)));
    }
    const limits = { limitMemory: 512 * 2 ** 20, limitCpu: 2, limitProcesses: 40, limitOpenFiles: 64 };
    const config = makeConfig({ root, port: 0, threads: 4, ...limits, limitFileSize: 2 ** 20 });
    s = await startPypages(config, { log: memoryLogger() });
  });
  afterAll(async () => {
    await s?.close();
    t?.remove();
  });

  const bobAnswers = async () => expect((await get('/bob/whoami.py')).status).toBe(200);

  it('memory: an allocation past limit-memory fails in the page', async () => {
    expect((await get('/alice/memory.py')).text).toBe('MemoryError');
    await bobAnswers();
  });

  it('processes: a fork loop stops at limit-processes', async () => {
    const text = (await get('/alice/forks.py')).text;
    const m = /^BlockingIOError after (\d+)$/.exec(text);
    expect(m, text).not.toBeNull();
    expect(Number(m![1])).toBeLessThan(40);
    await bobAnswers();
  });

  it('open files: opening thousands stops at limit-open-files', async () => {
    const text = (await get('/alice/files.py')).text;
    const m = /^OSError after (\d+)$/.exec(text);
    expect(m, text).not.toBeNull();
    expect(Number(m![1])).toBeLessThan(64);
  });

  it('file size: a 1 GiB write stops at limit-file-size', async () => {
    expect((await get('/alice/bigwrite.py')).text).toBe(`EFBIG after ${2 ** 20}`);
  });

  it('cpu: a spinning page is ended at limit-cpu (502), while the other tenant answers throughout', async () => {
    const spin = get('/alice/spin.py');
    const started = Date.now();
    await bobAnswers();
    expect((await spin).status).toBe(502);
    expect(Date.now() - started).toBeLessThan(20_000);
    await bobAnswers();
    expect((await get('/alice/whoami.py')).status).toBe(200); // a new worker took its place
  });
});

const HOG = `def application(environ, start_response):
    hog = []
    for _ in range(60):
        hog.append(bytearray(10 << 20))  # touched: 600 MB of pages, past the tenant's memory
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"survived"]
`;

const CGROUP = `def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [open("/proc/self/cgroup").read().encode()]
`;

describe.skipIf(!isRoot)("a tenant's cgroups bound the tenant as a whole (root only)", () => {
  let t: TestUsers;
  let s: RunningServer;
  const log = memoryLogger();
  const get = (target: string) => hostGet(s, 'localhost', target);

  beforeAll(async () => {
    t = makeTestUsers(['alice', 'bob']);
    const root = path.join(t.base, 'www');
    const pages: Record<string, Record<string, string>> = {
      alice: { 'hog.py': HOG, 'forks.py': HOSTILE['forks.py'], 'cgroup.py': CGROUP },
      bob: { 'whoami.py': WHOAMI },
    };
    for (const [who, user] of Object.entries(t.users)) {
      const dir = path.join(root, who);
      mkdirSync(dir, { recursive: true });
      for (const [name, code] of Object.entries(pages[who])) writeFileSync(path.join(dir, name), code);
      t.own(user, dir, ...Object.keys(pages[who]).map((f) => path.join(dir, f)));
    }
    const caps = { tenantMemory: 128 * 2 ** 20, tenantProcesses: 60, tenantCpu: 50 };
    s = await startPypages(makeConfig({ root, port: 0, threads: 4, ...caps }), { log });
  });
  afterAll(async () => {
    await s?.close();
    t?.remove();
  });

  it("puts a tenant's forked workers in the tenant's own cgroups", async () => {
    const text = (await get('/alice/cgroup.py')).text;
    for (const controller of ['memory', 'pids', 'cpu'])
      expect(text).toMatch(
        new RegExp(`:[^:\\n]*\\b${controller}\\b[^:\\n]*:/.*/t-user_${t.users.alice.name}-[0-9a-f]+$`, 'm'),
      );
  });

  it('tenant-processes stops a fork loop though no per-process limit is set', async () => {
    const text = (await get('/alice/forks.py')).text;
    const m = /^BlockingIOError after (\d+)$/.exec(text);
    expect(m, text).not.toBeNull();
    expect(Number(m![1])).toBeLessThan(60);
    expect((await get('/bob/whoami.py')).status).toBe(200);
  });

  it("tenant-memory ends a tenant's worker that outgrows it (502); the other tenant answers", async () => {
    expect((await get('/alice/hog.py')).status).toBe(502);
    expect((await get('/bob/whoami.py')).status).toBe(200);
    expect((await get('/alice/cgroup.py')).status).toBe(200);
  });
});
