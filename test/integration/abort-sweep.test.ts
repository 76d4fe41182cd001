// Issue 10's abort sweep: clients that leave at every point of a request.
// For each page state (warm, cold, queued behind a busy thread, small
// max-body) and request shape (abort-shapes.ts), the connection is cut after
// every cut point with FIN and with RST, and once the response has started.
// After each batch of cuts the server must answer; after each shape it must
// have nothing in flight, no stuck worker and no orphaned Python process.
//
// The server runs in a child process (test/harness/child-server.mjs): a
// crash is counted, reported with the cuts that preceded it and the server's
// last words, and the sweep goes on with a new server, so one run shows
// every crash instead of the first one killing vitest.
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { crashSummary, httpGet, startChildServer, type ChildServer } from '../harness/child-server.mjs';
import { cutAfterResponseStarts, cutAt } from '../harness/cuts.mjs';
import { exchange } from '../harness/http-wire.mjs';
import { SHAPES, cutPoints, type Shape } from './abort-shapes.js';

const BATCH = 48;
const REPLY = 4 << 20; // a response long enough to be on its way when the client leaves

/** A cut: run() resolves once the connection is cut, with what the client then saw (its outcome) to come. */
interface Cut {
  label: string;
  run: (server: ChildServer) => Promise<{ outcome: Promise<Outcome> }>;
  path: string;
  judge: (o: Outcome) => string | null;
}
interface Outcome {
  responses: { status: number; body: Buffer }[];
  error: string | null;
  closed: boolean;
  timedOut: boolean;
}
interface Totals {
  cuts: number;
  requests: number;
  stalled: number;
  crashes: number;
  ms: number;
}

const totals = new Map<string, Totals>();

/** A page state: its server settings, the page a cut goes to, and what it needs around each shape. */
interface State {
  name: string;
  config: Record<string, unknown>;
  /** Fewer cut points inside chunked and large bodies (abort-shapes.ts). */
  coarse?: boolean;
  /** Each cut may start a worker of its own, so the number of Python processes varies. */
  workersVary?: boolean;
  /** The page for cut number `k` of a shape (k 0: the head cuts, which never reach a page). */
  path(shape: number, k: number, server: ChildServer): string;
  /** Called before a shape's cuts and after a restart; returns what to do after them. */
  begin(shape: Shape, server: ChildServer): Promise<() => Promise<void>>;
  /** Requests proving the pages still work after a batch (beyond the health check). */
  checks(paths: string[]): string[];
}

const warm = (name: string, config: Record<string, unknown>): State => ({
  name,
  config,
  path: () => '/body_len.py',
  begin: async () => async () => {},
  checks: () => ['/body_len.py'],
});

const STATES: State[] = [
  warm('warm', {}),
  {
    name: 'cold',
    // Idle cold pages stop soon, so the new ones need not wait for max-workers to make room.
    config: { maxWorkers: 40, idleTimeout: 2 },
    coarse: true,
    workersVary: true,
    // A fresh copy of the page for every cut that completes a head: it has no worker when the request comes.
    path: (shape, k, server) => {
      const path = `/cold-${shape}-${String(k).padStart(4, '0')}.py`;
      copyFileSync(join(server.root, 'body_len.py'), join(server.root, path.slice(1)));
      return path;
    },
    begin: async () => async () => {},
    checks: (paths) => [...new Set(paths)].filter((p) => !p.endsWith('-0000.py')),
  },
  {
    name: 'queued',
    // One thread for the folder's group; hold.py takes it, so every request to body_len.py waits in the queue.
    config: { threads: 1, processes: 1, grouping: 'per-folder', queueTimeout: 300 },
    path: () => '/body_len.py',
    begin: async (shape, server) => {
      const flag = `release-${shape.name}-${Date.now()}`;
      const holder = exchange(
        server.port,
        Buffer.from(`GET /hold.py?until=${flag} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`),
        { deadlineMs: 120_000, idleMs: 120_000 },
      );
      await waitFor(async () => (await server.status()).totals.inflight === 1, 'hold.py to hold the thread');
      return async () => {
        writeFileSync(join(server.root, flag), '');
        const held = await holder;
        if (held.responses[0]?.body.toString() !== 'released')
          throw new Error(`hold.py did not answer "released": ${held.responses[0]?.status}`);
      };
    },
    checks: () => [],
  },
  warm('max-body-64K', { maxBody: '64K' }),
];

/** Polls (bounded) until probe() is truthy. */
async function waitFor(probe: () => Promise<boolean> | boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (
    !(await Promise.resolve()
      .then(probe)
      .catch(() => false))
  ) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The final (non-1xx) responses of an outcome. */
const finals = (o: Outcome) => o.responses.filter((r) => r.status >= 200);

/** What the page must answer to the whole request in this state: its status and, for 200, the body. */
function expected(state: State, shape: Shape): { status: number; body: string } {
  const tooLarge = state.name === 'max-body-64K' && shape.bodyLength > 65536;
  return tooLarge ? { status: 413, body: '' } : { status: 200, body: String(shape.bodyLength) };
}

function judgeComplete(want: { status: number; body: string }, o: Outcome, replyBytes = 0): string | null {
  if (o.error || o.timedOut || !o.closed)
    return `not a clean end: ${o.error ?? (o.timedOut ? 'no close within the deadline' : 'open')}`;
  const got = finals(o);
  if (want.status === 413 && got.every((r) => r.status === 413)) return null; // the 413 may be lost to the reset of an unread body
  if (got.length !== 1 || got[0].status !== want.status)
    return `expected one ${want.status}, got [${o.responses.map((r) => r.status)}]`;
  if (want.status === 200 && !replyBytes && got[0].body.toString() !== want.body)
    return `expected the body ${want.body}, got ${got[0].body.toString().slice(0, 40)}`;
  if (replyBytes && want.status === 200 && got[0].body.length !== replyBytes)
    return `the response was cut: ${got[0].body.length} of ${replyBytes} bytes`;
  return null;
}

function judgeIncomplete(o: Outcome): string | null {
  if (o.error) return `a malformed response: ${o.error}`;
  if (o.timedOut) return 'the server neither answered nor closed a half-closed, incomplete request within the deadline';
  const ok = finals(o).find((r) => r.status < 400);
  return ok ? `a ${ok.status} to an incomplete request (body ${ok.body.toString().slice(0, 40)})` : null;
}

/** Every cut of one shape in one state, with how its outcome is judged. */
function cutsOf(state: State, shapeIndex: number, server: ChildServer): Cut[] {
  const shape = SHAPES[shapeIndex];
  const want = expected(state, shape);
  const cuts: Cut[] = [];
  let k = 0;
  const headPath = state.path(shapeIndex, 0, server);
  const headLength = shape.headLength(headPath);
  for (const n of cutPoints(shape, headPath, state.coarse)) {
    for (const how of ['fin', 'rst'] as const) {
      const path = n < headLength ? headPath : state.path(shapeIndex, ++k, server);
      const bytes = shape.bytes(path);
      const complete = n === bytes.length;
      cuts.push({
        label: `${shape.name} ${how} after ${n}/${bytes.length} bytes${n === headLength ? ' (head complete)' : ''}`,
        path,
        run: async (s) => {
          const { stalled, outcome } = await cutAt(s.port, bytes, n, how, { deadlineMs: 120_000 });
          if (stalled) totals.get(state.name)!.stalled++;
          return { outcome };
        },
        judge: (o) => (how === 'rst' ? null : complete ? judgeComplete(want, o) : judgeIncomplete(o)),
      });
    }
  }
  for (const how of ['fin', 'rst'] as const) {
    const path = `${state.path(shapeIndex, ++k, server)}?reply=${REPLY}`;
    cuts.push({
      label: `${shape.name} ${how} once the response started`,
      path,
      // The cut comes with the response, which in the queued state starts only after the release.
      run: async (s) => ({ outcome: cutAfterResponseStarts(s.port, shape.bytes(path), how, { deadlineMs: 120_000 }) }),
      judge: (o) => (how === 'rst' ? null : judgeComplete(want, o, REPLY)),
    });
  }
  return cuts;
}

/** Null if the server answers its health check; else the crash (it is restarted) or why not. */
async function liveness(server: ChildServer): Promise<string | null> {
  try {
    if ((await httpGet(server.port, '/-/health', 15_000)).status === 200 && server.alive) return null;
  } catch {
    // refused or reset: dying or dead
  }
  const deadline = Date.now() + 3000;
  while (server.alive && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  if (server.alive) return 'the server is alive but its health check failed';
  return `CRASH ${crashSummary(server.crashes.at(-1))}`;
}

/** After a batch: the pages that saw cuts still answer a small POST correctly. */
async function checkPages(server: ChildServer, state: State, paths: string[]): Promise<string[]> {
  const problems: string[] = [];
  await Promise.all(
    state.checks(paths.map((p) => p.split('?')[0])).map(async (path) => {
      totals.get(state.name)!.requests++;
      try {
        const res = await httpGet(server.port, path, 30_000, 'POST', 'abc');
        if (res.status !== 200 || res.body.toString() !== '3')
          problems.push(`${path} answered ${res.status} ${res.body.toString().slice(0, 60)} to a 3-byte POST`);
      } catch (err) {
        problems.push(`${path}: ${(err as Error).message}`);
      }
    }),
  );
  return problems;
}

/** At the end of a shape: nothing in flight or queued, every worker ready, every Python process accounted for. */
async function quiescent(server: ChildServer): Promise<string | null> {
  const orphans = server.pythons().orphans;
  if (orphans.length) {
    // Left by a crash: they will not go away by themselves, so report them once and end them.
    for (const p of orphans) process.kill(p.pid, 'SIGKILL');
    const pids = orphans.map((p: { pid: number; cmdline?: string }) => `${p.pid} ${p.cmdline ?? ''}`);
    return `orphaned Python processes (${pids.join('; ')}), left by a dead server; its log ends:\n${server.stderrTail
      .filter((l: string) => !l.includes('cut short'))
      .slice(-8)
      .join('\n')}`;
  }
  let last = '';
  try {
    await waitFor(
      async () => {
        const st = await server.status();
        const pids = new Set<number>(
          st.groups.flatMap((g: { processes: { pid: number }[] }) => g.processes.map((p) => p.pid)),
        );
        const states = st.groups.flatMap((g: { processes: { state: string }[] }) => g.processes.map((p) => p.state));
        const { live, orphans } = server.pythons();
        // Workers are in the status report; the fork server is the server's own child.
        const unaccounted = live.filter(
          (p: { pid: number; ppid: number }) => !pids.has(p.pid) && p.ppid !== server.pid,
        );
        last =
          `in flight ${st.server.requestsInFlight - 1}, running ${st.totals.inflight}, queued ${st.totals.queued}, worker states [${states}], ` +
          `orphaned Python pids [${orphans.map((p: { pid: number }) => p.pid)}], unaccounted [${unaccounted.map((p: { pid: number }) => p.pid)}]`;
        return (
          st.server.requestsInFlight === 1 &&
          st.totals.inflight === 0 &&
          st.totals.queued === 0 &&
          states.every((s: string) => s === 'ready') &&
          orphans.length === 0 &&
          unaccounted.length === 0
        );
      },
      'the server to be idle',
      15_000,
    );
    return null;
  } catch {
    return `not idle after the shape: ${last}`;
  }
}

/** One state's sweep: its server, its counts, what went wrong. */
interface Sweep {
  state: State;
  server: ChildServer;
  t: Totals;
  failures: string[];
  pythons: number | null;
}

/** Runs a batch of cuts at once (their outcomes are judged as they come), then checks the server. */
async function cutBatch(sw: Sweep, batch: Cut[], observed: Promise<void>[]): Promise<'ok' | 'restarted'> {
  const { state, server, t, failures } = sw;
  const failed = (err: Error): Outcome => ({
    responses: [],
    error: `the cut failed: ${err.message}`,
    closed: true,
    timedOut: false,
  });
  await Promise.all(
    batch.map(async (cut) => {
      t.cuts++;
      t.requests++;
      const { outcome } = await cut.run(server).catch((err) => ({ outcome: Promise.resolve(failed(err)) }));
      observed.push(
        outcome.catch(failed).then((o) => {
          const why = cut.judge(o);
          if (why) failures.push(`${state.name}: ${cut.label}: ${why}`);
        }),
      );
    }),
  );
  const after = `${state.name}: after [${batch.map((c) => c.label).join('; ')}]`;
  t.requests++;
  const dead = await liveness(server);
  if (!dead) {
    failures.push(
      ...(
        await checkPages(
          server,
          state,
          batch.map((c) => c.path),
        )
      ).map((p) => `${after}: ${p}`),
    );
    return 'ok';
  }
  failures.push(`${after}: ${dead}`);
  if (server.alive) return 'ok';
  t.crashes++;
  sw.pythons = null;
  await server.restart();
  return 'restarted';
}

/** Every cut of one shape, then: nothing in flight, workers ready, Python processes accounted for and as many as before. */
async function sweepShape(sw: Sweep, index: number): Promise<void> {
  const { state, server, failures } = sw;
  const shape = SHAPES[index];
  let end = await state.begin(shape, server);
  const observed: Promise<void>[] = [];
  const cuts = cutsOf(state, index, server);
  for (let b = 0; b < cuts.length; b += BATCH) {
    if ((await cutBatch(sw, cuts.slice(b, b + BATCH), observed)) === 'restarted')
      end = await state.begin(shape, server);
  }
  await end().catch((err) => failures.push(`${state.name}: ${shape.name}: ${err.message}`));
  await Promise.all(observed);
  sw.t.requests++;
  const idle = server.alive ? await quiescent(server) : 'the server is dead';
  if (idle) failures.push(`${state.name}: ${shape.name}: ${idle}`);
  // Cold pages each bring a worker; elsewhere the same workers serve every shape (none stuck, replaced or leaked).
  const count = server.pythons().live.length;
  if (!state.workersVary && sw.pythons !== null && count !== sw.pythons)
    failures.push(`${state.name}: ${shape.name}: ${sw.pythons} Python processes before, ${count} after`);
  sw.pythons = count;
}

async function sweepState(state: State): Promise<string[]> {
  const t: Totals = { cuts: 0, requests: 0, stalled: 0, crashes: 0, ms: 0 };
  const started = Date.now();
  totals.set(state.name, t);
  const sw: Sweep = { state, server: await startChildServer(state.config), t, failures: [], pythons: null };
  try {
    for (let i = 0; i < SHAPES.length; i++) {
      await sweepShape(sw, i);
      if (process.env.ABORT_SWEEP_VERBOSE) console.log(`${state.name} ${SHAPES[i].name}: ${Date.now() - started} ms`);
    }
  } finally {
    t.ms = Date.now() - started;
    const orphans = sw.server.pythons().orphans;
    if (orphans.length)
      sw.failures.push(
        `${state.name}: Python processes left by a dead server: ${orphans.map((p: { pid: number }) => p.pid)}`,
      );
    await sw.server.stop();
  }
  return sw.failures;
}

afterAll(() => {
  const all = [...totals.values()];
  const sum = (f: (t: Totals) => number) => all.reduce((n, t) => n + f(t), 0);
  for (const [name, t] of totals)
    console.log(
      `abort sweep ${name}: ${t.cuts} cuts, ${t.requests} requests, ${t.stalled} stalled uploads, ${t.crashes} crashes, ${(t.ms / 1000).toFixed(1)} s`,
    );
  console.log(
    `abort sweep total: ${sum((t) => t.cuts)} cuts, ${sum((t) => t.requests)} requests, ${sum((t) => t.crashes)} crashes`,
  );
});

describe('abort sweep: clients that leave at every point of a request', () => {
  for (const state of STATES) {
    it(`${state.name} page`, async () => {
      const failures = await sweepState(state);
      if (failures.length)
        console.log(`abort sweep ${state.name}: ${failures.length} failures:\n  ${failures.slice(0, 40).join('\n  ')}`);
      expect(failures.slice(0, 20)).toEqual([]);
      expect(totals.get(state.name)!.crashes).toBe(0);
    }, 240_000);
  }
});
