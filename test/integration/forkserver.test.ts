// The fork server with real Python: workers forked from a warm zygote behave
// as spawned ones do (READY, requests, cwd, env, python-path, output, exit
// codes and signals), and the launcher falls back to spawn when it must.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEnviron } from '../../lib/http/environ.js';
import { forkingLauncher, type ForkingLauncher } from '../../lib/worker/launch/fork-launcher.js';
import { ForkServer } from '../../lib/worker/launch/forkserver.js';
import { findInterpreter } from '../../lib/groups/interpreter.js';
import { memoryLogger } from '../../lib/util/log.js';
import { Worker } from '../../lib/worker/worker.js';
import type { LaunchOptions, WorkerProcess } from '../../lib/worker/launch/spawn.js';
import { waitFor } from '../helpers.js';

/** root/ holds the pages (state.py, exit3.py); extra/ a module only python-path reaches. */
const FORK_FIXTURES = new URL('../fixtures/forkserver/', import.meta.url).pathname;

interface Seen {
  count: number;
  pid: number;
  cwd: string;
  env: string | null;
  extra: string | null;
  preloaded: boolean;
}

const ps = (pid: number, field: string) =>
  execFileSync('ps', ['-o', `${field}=`, '-p', String(pid)], { encoding: 'utf8' }).trim();
const parentOf = (pid: number) => Number(ps(pid, 'ppid'));

describe('fork server', () => {
  const log = Object.assign(memoryLogger(), { infos: [] as string[] });
  log.info = (line) => void log.infos.push(line);
  const routes = new Map<string, { worker: Worker; script: string }>();
  const started: Worker[] = [];
  let python: string;
  let dir: string;
  let root: string;
  let launcher: ForkingLauncher;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    python = (await findInterpreter('')).path;
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'pypages-fork-test-')));
    root = join(dir, 'root');
    cpSync(FORK_FIXTURES, dir, { recursive: true });
    mkdirSync(join(dir, 'elsewhere'));
    launcher = forkingLauncher({ sharedPreload: ['xml.dom.minidom'], log });
    server = createServer((req, res) => {
      const { worker, script } = routes.get(req.url!.slice(1))!;
      const s = req.socket;
      const environ = buildEnviron(
        {
          method: 'GET',
          rawUrl: req.url!,
          httpVersion: req.httpVersion,
          rawHeaders: req.rawHeaders,
          remoteAddress: s.remoteAddress!,
          remotePort: s.remotePort!,
          localAddress: s.localAddress!,
          localPort: s.localPort!,
          secure: false,
        },
        { file: join(root, script), scriptName: `/${script}`, pathInfo: '', root },
      );
      void worker
        .handle({ script: join(root, script), environ, req, res, hasBody: false, pushBody: false, requestId: 'test' })
        .then((outcome) => {
          if (outcome.kind === 'error' && !res.headersSent) res.writeHead(outcome.status).end(outcome.message);
        });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  const launchers: ForkingLauncher[] = [];
  afterAll(async () => {
    await Promise.all(
      started.map((w) =>
        w.alive
          ? new Promise((r) => {
              w.once('exit', r);
              w.kill();
            })
          : null,
      ),
    );
    await launcher?.close();
    await Promise.all(launchers.map((l) => l.close()));
    server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function start(
    opts: Partial<LaunchOptions> = {},
    via = launcher,
  ): Promise<{ worker: Worker; proc: WorkerProcess }> {
    const tag = opts.tag ?? 'worker';
    const proc = await via.launch({
      python,
      root,
      cwd: root,
      threads: 1,
      processes: 1,
      env: {},
      pythonPath: [],
      preload: [],
      tag,
      log,
      ...opts,
    });
    const worker = await Worker.start(proc, { tag, log });
    started.push(worker);
    return { worker, proc };
  }

  let nextRoute = 0;
  async function get(worker: Worker, script = 'state.py'): Promise<{ status: number; text: string }> {
    const id = String(++nextRoute);
    routes.set(id, { worker, script });
    const res = await fetch(base + id);
    return { status: res.status, text: await res.text() };
  }
  const seen = async (worker: Worker): Promise<Seen> => JSON.parse((await get(worker)).text) as Seen;

  it('forks workers from one zygote: distinct pids, its children, state kept apart, shared-preload loaded', async () => {
    const a = await start();
    const b = await start();
    expect(a.proc.pid).not.toBe(b.proc.pid);
    expect(a.worker.pid).toBe(a.proc.pid);
    const zygote = parentOf(a.proc.pid);
    expect(parentOf(b.proc.pid)).toBe(zygote);
    expect(zygote).not.toBe(process.pid);
    expect(ps(zygote, 'command')).toContain('pypages_worker.forkserver');
    expect(await seen(a.worker)).toMatchObject({ count: 1, pid: a.proc.pid, preloaded: true });
    expect((await seen(a.worker)).count).toBe(2);
    expect(await seen(b.worker)).toMatchObject({ count: 1, pid: b.proc.pid });
  });

  it('applies cwd, env and python-path, and logs printed lines tagged with the tag and pid', async () => {
    const cwd = join(dir, 'elsewhere');
    const c = await start({ cwd, env: { PYPAGES_FS_TEST: 'yes' }, pythonPath: [join(dir, 'extra')], tag: 'tag-C' });
    expect(await seen(c.worker)).toMatchObject({ cwd, env: 'yes', extra: 'from python-path' });
    await waitFor(
      () => log.errors.includes(`[tag-C pid ${c.proc.pid}] state page printing 1`),
      'the tagged print line',
    );
    const d = await start();
    expect(await seen(d.worker)).toMatchObject({ cwd: root, env: null, extra: null }); // nothing leaked from C
  });

  it('reports kill -9 as SIGKILL and os._exit(3) as code 3', async () => {
    const killed = await start();
    const killedExit = once(killed.proc, 'exit');
    process.kill(killed.proc.pid, 'SIGKILL');
    expect(await killedExit).toEqual([null, 'SIGKILL']);
    const exits = await start();
    const exitsExit = once(exits.proc, 'exit');
    expect((await get(exits.worker, 'exit3.py')).status).toBe(502);
    expect(await exitsExit).toEqual([3, null]);
  });

  it('fails a start in a missing cwd with the reason', async () => {
    const proc = await launcher.launch({
      python,
      root,
      cwd: join(dir, 'missing'),
      threads: 1,
      processes: 1,
      env: {},
      pythonPath: [],
      preload: [],
      tag: 'bad',
      log,
    });
    await expect(Worker.start(proc, { tag: 'bad', log })).rejects.toThrow(/cannot change to the working directory/);
  });

  it('gives another interpreter path its own fork server', async () => {
    const usr = '/usr/bin/python3';
    let other = usr;
    if (!existsSync(usr) || realpathSync(usr) === realpathSync(python)) {
      other = join(dir, 'python-link'); // same interpreter, another path: still its own server, by construction
      symlinkSync(python, other);
    }
    const a = await start();
    const e = await start({ python: other });
    const zygote = parentOf(e.proc.pid);
    expect(zygote).not.toBe(parentOf(a.proc.pid));
    expect(ps(zygote, 'command')).toContain('pypages_worker.forkserver');
    expect((await seen(e.worker)).count).toBe(1);
  });

  it('spawns a worker whose env extras only a new interpreter reads', async () => {
    const h = await start({ env: { PYTHONHASHSEED: '0' } });
    expect(parentOf(h.proc.pid)).toBe(process.pid);
  });

  it('rejects ForkServer.start for an interpreter that does not run', async () => {
    await expect(ForkServer.start({ python: join(dir, 'no-python'), sharedPreload: [], log })).rejects.toThrow(
      /fork server for .*no-python/,
    );
  });

  it('when the zygote dies, its workers keep serving, a new one is started, and later launches fork from it', async () => {
    const a = await start();
    expect((await seen(a.worker)).count).toBe(1);
    const dead = parentOf(a.proc.pid);
    process.kill(dead, 'SIGKILL');
    await waitFor(
      () => log.errors.some((l) => l.includes(`(pid ${dead}) exited on SIGKILL; starting a new one`)),
      'the death log line',
    );
    expect((await seen(a.worker)).count).toBe(2);
    const back = await waitFor(
      () => log.infos.find((l) => l.includes(`fork server for ${python} is running again`)),
      'the restart log line',
    );
    const g = await start();
    const zygote = parentOf(g.proc.pid);
    expect(back).toContain(`(pid ${zygote})`);
    expect([dead, process.pid]).not.toContain(zygote);
    expect(ps(zygote, 'command')).toContain('pypages_worker.forkserver');
    expect((await seen(g.worker)).count).toBe(1);
    const orphanExit = once(a.proc, 'exit');
    a.worker.kill();
    expect(await orphanExit).toEqual([null, null]); // no zygote to report it: its pid, watched, is gone
  });

  /** A launcher of its own with its own log (closed after the tests), and how to find its current zygote's pid. */
  async function ownLauncher(python_ = python) {
    const own = Object.assign(memoryLogger(), { infos: [] as string[] });
    own.info = (line) => void own.infos.push(line);
    const via = forkingLauncher({ sharedPreload: [], log: own });
    launchers.push(via);
    await via.warm(python_);
    const zygote = async () => parentOf((await start({ python: python_ }, via)).proc.pid);
    /** The `n`th line (from 1) that includes `text`, once logged. */
    const line = (text: string, n = 1) =>
      waitFor(() => own.errors.concat(own.infos).filter((l) => l.includes(text))[n - 1], JSON.stringify(text), 10_000);
    return { via, zygote, line, log: own };
  }
  const pidIn = (line: string) => Number(/\(pid (\d+)\)/.exec(line)![1]);

  it('restarts a zygote that keeps dying later and later (crash loop), spawning meanwhile', async () => {
    const { via, zygote, line } = await ownLauncher();
    const first = await zygote();
    process.kill(first, 'SIGKILL');
    await line(`(pid ${first}) exited on SIGKILL; starting a new one, its workers are spawned meanwhile`); // at once
    const second = pidIn(await line('is running again'));
    expect(await zygote()).toBe(second);
    process.kill(second, 'SIGKILL');
    await line(`(pid ${second}) exited on SIGKILL; starting a new one in 1 s`);
    const meanwhile = await start({}, via);
    expect(parentOf(meanwhile.proc.pid)).toBe(process.pid); // spawned: no launch waits for the restart
    const third = pidIn(await line('is running again', 2));
    expect(await zygote()).toBe(third);
    process.kill(third, 'SIGKILL');
    await line(`(pid ${third}) exited on SIGKILL; starting a new one in 2 s`);
  });

  it('retries a start that failed, and forks again once the interpreter works again', async () => {
    const wrapper = join(dir, 'python-sometimes');
    const works = join(dir, 'python-works');
    writeFileSync(works, '');
    writeFileSync(
      wrapper,
      `#!/bin/sh\n[ -e '${works}' ] || { echo 'this python is away' >&2; exit 1; }\nexec '${python}' "$@"\n`,
      {
        mode: 0o755,
      },
    );
    const { zygote, line } = await ownLauncher(wrapper);
    const first = await zygote();
    rmSync(works);
    process.kill(first, 'SIGKILL');
    const failed = await line(`cannot start a fork server for ${wrapper}`);
    expect(failed).toContain('this python is away');
    expect(failed).toContain('a new start is tried in 1 s');
    writeFileSync(works, '');
    const back = pidIn(await line('is running again'));
    expect(await zygote()).toBe(back);
  });

  it('kills a frozen zygote and spawns the launch that waited for it, in seconds rather than 10 s', async () => {
    const { via, zygote, line } = await ownLauncher();
    const frozen = await zygote();
    process.kill(frozen, 'SIGSTOP');
    const t = Date.now();
    const waited = await start({}, via);
    expect(Date.now() - t).toBeLessThan(8000); // 1.5-2 s to declare it dead, then a spawn
    expect(parentOf(waited.proc.pid)).toBe(process.pid);
    expect(
      await line(`pid ${frozen}] did not answer a ping for 1.5 s: its Python stack follows, then it is killed`),
    ).toBeTruthy();
    await waitFor(() => !existsSync(`/proc/${frozen}`), 'the frozen zygote gone');
    expect(pidIn(await line('is running again'))).not.toBe(frozen);
  });
});
