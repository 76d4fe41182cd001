// Workers' lives are always known: a fork server that dies or freezes under
// load is replaced while every request is answered; a worker's end is noticed
// within a second whatever its page forked; every Python process ends when
// the Node process that owns it is killed; fork-server folders of dead
// servers are removed, and a live server's never.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { identify, isAlive, type ProcessId } from '../../lib/util/process-identity.js';
import {
  FIXTURES,
  pythonDescendants,
  removeDir,
  serveTempRoot,
  stopChild,
  tempDir,
  waitFor,
  type TestServer,
} from '../helpers.js';

const LIVES = new URL('../fixtures/lives/', import.meta.url).pathname;
const SERVE = join(LIVES, 'serve.mjs');

/** The pages these tests use: test/fixtures/lives, and a few of test/fixtures/pages. */
function populate(root: string): void {
  cpSync(LIVES, root, { recursive: true, filter: (src) => !src.endsWith('.mjs') });
  for (const page of ['spin.py', 'sleepy.py']) copyFileSync(join(FIXTURES, page), join(root, page));
  for (let i = 1; i <= 6; i++) copyFileSync(join(LIVES, 'lineage.py'), join(root, `new${i}.py`));
}

let servers: TestServer[] = [];
let children: ChildProcess[] = [];
let grandchildren: string[] = []; // grandchild.pid files of forks_then_dies.py
afterEach(async () => {
  for (const file of grandchildren) if (existsSync(file)) killIfAlive(identify(Number(readFileSync(file, 'utf8'))));
  await Promise.all(children.map((c) => stopChild(c)));
  await Promise.all(servers.map((s) => s.stop()));
  [servers, children, grandchildren] = [[], [], []];
});

async function serve(overrides: Parameters<typeof serveTempRoot>[1]): Promise<TestServer> {
  const s = await serveTempRoot(populate, { host: '127.0.0.1', ...overrides });
  servers.push(s);
  return s;
}

/** A pypages server in a Node process of its own (test/fixtures/lives/serve.mjs). */
async function serveInChild(launch: 'fork' | 'spawn'): Promise<{ child: ChildProcess; base: string; root: string }> {
  const root = tempDir('pypages-lives-');
  populate(root);
  const child = spawn(process.execPath, [SERVE, root, launch], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  child.once('exit', () => removeDir(root));
  child.stderr!.resume();
  const [first] = (await once(child.stdout!.setEncoding('utf8'), 'data')) as [string];
  child.stdout!.resume();
  return { child, base: `http://127.0.0.1:${JSON.parse(first.split('\n')[0]).port}/`, root };
}

function killIfAlive(id: ProcessId | null): void {
  if (id && isAlive(id)) process.kill(id.pid, 'SIGKILL');
}

/** The fork servers that `parent` started. */
async function zygotes(parent = process.pid): Promise<{ pid: number }[]> {
  return (await pythonDescendants(parent)).filter(
    (p) => p.ppid === parent && p.cmdline.includes('pypages_worker.forkserver'),
  );
}

interface Answer {
  status: number;
  ms: number;
  at: number;
  body: string;
}

/** `clients` loops requesting `path` for `ms` (each at most 400 requests); `onAnswer` is told how long the load has run. */
async function load(
  base: string,
  path: string,
  clients: number,
  ms: number,
  onAnswer: (elapsedMs: number) => void = () => {},
): Promise<Answer[]> {
  const answers: Answer[] = [];
  const start = Date.now();
  const end = start + ms;
  const client = async () => {
    for (let i = 0; i < 400 && Date.now() < end; i++) {
      const t = Date.now();
      const res = await fetch(new URL(path, base));
      const answer = { status: res.status, body: await res.text(), ms: Date.now() - t, at: Date.now() };
      answers.push(answer);
      onAnswer(answer.at - start);
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  return answers;
}

describe('a fork server that dies or freezes under load', () => {
  const churn = { launch: 'fork', processes: 2, threads: 2, maxRequests: 5 } as const; // a new worker every few requests

  it('killed: every request is answered, a new one is started, and later workers are forked from it', async () => {
    const s = await serve(churn);
    const [old] = await zygotes();
    let killedAt = 0;
    const answers = await load(s.url, '/lineage.py', 8, 3000, (elapsed) => {
      if (killedAt || elapsed < 800) return;
      killedAt = Date.now();
      process.kill(old.pid, 'SIGKILL');
    });
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    const [now] = await waitFor(
      async () => ((z) => (z.length === 1 && z[0].pid !== old.pid ? z : null))(await zygotes()),
      'the new fork server',
    );
    const parents = answers.filter((a) => a.at > killedAt).map((a) => JSON.parse(a.body).ppid as number);
    expect(parents).toContain(now.pid); // forked again
    expect(s.log.errors.some((l) => l.includes(`(pid ${old.pid}) exited on SIGKILL; starting a new one`))).toBe(true);
  });

  it('frozen (SIGSTOP): replaced within seconds, every request answered, no start waits 10 s', async () => {
    const s = await serve(churn);
    const [old] = await zygotes();
    const oldId = identify(old.pid)!;
    let stoppedAt = 0;
    const running = load(s.url, '/lineage.py', 8, 4000, (elapsed) => {
      if (stoppedAt || elapsed < 700) return;
      stoppedAt = Date.now();
      process.kill(old.pid, 'SIGSTOP');
    });
    const fresh = await waitFor(
      async () => stoppedAt && (await zygotes()).find((z) => z.pid !== old.pid),
      'a new fork server',
      10_000,
    );
    const replacedMs = Date.now() - stoppedAt;
    const answers = await running;
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    expect(replacedMs).toBeLessThan(5000); // detection 1.5-2 s, then a start
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(6000);
    await waitFor(() => !isAlive(oldId), 'the frozen fork server killed');
    expect(s.log.errors.some((l) => l.includes(`pid ${old.pid}] did not answer a ping`))).toBe(true);
    expect(fresh.pid).not.toBe(old.pid);
  });
});

describe("a worker whose page forked a long-lived child (it holds the worker's pipes or sockets)", () => {
  /** Kills the worker of forks_then_dies.py from its page; resolves with the status and how long it took. */
  async function dieWithChild(s: TestServer): Promise<{ status: number; ms: number }> {
    grandchildren.push(join(s.root, 'grandchild.pid'));
    const t = Date.now();
    const res = await fetch(new URL('forks_then_dies.py', s.url));
    await res.arrayBuffer();
    return { status: res.status, ms: Date.now() - t };
  }
  const counted = (s: TestServer, pid: number) => s.groups.status().some((g) => g.processes.some((p) => p.pid === pid));

  it.each(['spawn', 'fork'] as const)(
    'is noticed within a second when it dies (launch %s): 502, and it no longer counts',
    async (launch) => {
      const s = await serve({ launch });
      const { pid } = (await (await fetch(new URL('forks_then_dies.py?die=0', s.url))).json()) as { pid: number };
      const died = await dieWithChild(s);
      expect(died.status).toBe(502);
      expect(died.ms).toBeLessThan(1500); // without the fix: until the child exits, 30 s
      expect(counted(s, pid)).toBe(false);
      expect(isAlive(identify(Number(readFileSync(join(s.root, 'grandchild.pid'), 'utf8')))!)).toBe(true); // it did hold them
    },
  );

  it('is noticed within a second when its fork server is gone (an orphan, watched by pid)', async () => {
    const s = await serve({ launch: 'fork' });
    const [old] = await zygotes();
    const before = (await (await fetch(new URL('forks_then_dies.py?die=0', s.url))).json()) as {
      pid: number;
      ppid: number;
    };
    expect(before.ppid).toBe(old.pid);
    process.kill(old.pid, 'SIGKILL');
    await waitFor(async () => (await zygotes()).some((z) => z.pid !== old.pid), 'the new fork server');
    const died = await dieWithChild(s);
    expect(died.status).toBe(502);
    expect(died.ms).toBeLessThan(1500);
    expect(counted(s, before.pid)).toBe(false);
  });
});

describe('when the Node process is killed', () => {
  it.each(['fork', 'spawn'] as const)(
    'no Python process below it survives (launch %s): idle, spinning, sleeping, starting',
    async (launch) => {
      const { child, base } = await serveInChild(launch);
      expect((await fetch(new URL('lineage.py', base))).status).toBe(200);
      const abandoned = ['spin.py', 'sleepy.py?s=60'].map((p) => fetch(new URL(p, base)).catch(() => null));
      const expected = launch === 'fork' ? 4 : 3; // lineage, spin, sleepy (+ the fork server)
      await waitFor(async () => (await pythonDescendants(child.pid)).length >= expected, 'the busy workers', 15_000);
      const starting = Array.from({ length: 6 }, (_, i) => fetch(new URL(`new${i + 1}.py`, base)).catch(() => null));
      await waitFor(async () => (await pythonDescendants(child.pid)).length > expected, 'a worker starting');
      const before = (await pythonDescendants(child.pid)).map((p) => identify(p.pid)).filter((id) => id !== null);
      const killedAt = Date.now();
      process.kill(child.pid!, 'SIGKILL');
      await waitFor(() => before.every((id) => !isAlive(id)), 'every Python process gone', 3000);
      expect(Date.now() - killedAt).toBeLessThan(3000);
      await Promise.all([...abandoned, ...starting]);
    },
  );
});

describe('fork-server folders', () => {
  it('of dead servers are removed at start; those of live ones, another server of them running, are kept', async () => {
    const dead = spawn('true');
    await once(dead, 'exit');
    const me = identify(process.pid)!;
    const stale = [
      `pypages-fork-${dead.pid}-${me.start}-aaaaaa`,
      `pypages-fork-${process.pid}-${me.start! + 1}-bbbbbb`,
    ]; // gone; pid reused
    for (const name of stale) mkdirSync(join(tmpdir(), name), { mode: 0o700 });
    const other = await serveInChild('fork');
    const theirs = () => readdirSync(tmpdir()).filter((n) => n.startsWith(`pypages-fork-${other.child.pid}-`));
    expect(theirs()).toHaveLength(1);
    for (const name of stale) expect(existsSync(join(tmpdir(), name))).toBe(false); // its start removed them
    const s = await serve({ launch: 'fork' });
    expect((await s.get('/lineage.py')).status).toBe(200);
    expect(theirs()).toHaveLength(1);
    const [zygote] = await zygotes(other.child.pid!);
    const res = await fetch(new URL('new1.py', other.base)); // a new worker of the other server: forked through its folder
    expect(res.status).toBe(200);
    const newest = (await pythonDescendants(other.child.pid)).filter((p) => p.ppid === zygote.pid);
    expect(newest.length).toBeGreaterThan(0);
  });
});
