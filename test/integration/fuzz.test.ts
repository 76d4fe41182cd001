// Issue 10's fuzzer: valid, randomly mutated and malformed requests
// (fuzz-cases.ts) against pypages in a child process. Every answer must be
// a well-formed HTTP/1.x response (test/harness/http-wire.mjs parses
// strictly) or a closed connection, within a bound; malformed requests get
// 4xx/5xx or a close, never a page's answer; valid ones get the right answer;
// and the server lives (a health check after every batch).
//
// CI runs a fixed seed and 400 cases. `npm run fuzz` runs 20000 with a
// random seed; FUZZ_SEED and FUZZ_RUNS reproduce any run (the seed is printed).
// Every case of a run is tried and failures are grouped at the end, so one
// run shows every kind of failure, not just the first.
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { crashSummary, httpGet, startChildServer, type ChildServer } from '../harness/child-server.mjs';
import { exchange } from '../harness/http-wire.mjs';
import { fuzzCase } from './fuzz-cases.js';
import { plausibleBody, type FuzzCase } from './fuzz-requests.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const SEED =
  process.env.FUZZ_SEED === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.FUZZ_SEED ?? 20261202);
const BATCH = 10; // cases sent at once: a silent case costs IDLE_MS for the batch, not for itself alone
const IDLE_MS = 800; // without FIN, this long without a byte means "the server waits for more"
const DEADLINE_MS = 10_000; // the bound on any answer (or close)

interface Result {
  responses: { status: number; body: Buffer }[];
  error: string | null;
  closed: boolean;
  silent: boolean;
  timedOut: boolean;
  ms: number;
}

/** Null if the server's answer to the case is acceptable, else why not. */
function judge(c: FuzzCase, r: Result): string | null {
  if (r.error) return `a malformed response: ${r.error}`;
  if (r.timedOut) return `neither an answer nor a close within ${DEADLINE_MS} ms`;
  if (r.responses.some((x) => x.status < 200 && x.status !== 100)) return 'an interim response other than 100 Continue';
  const finals = r.responses.filter((x) => x.status >= 200);
  const wrong = (x: { status: number; body: Buffer }, body: string) =>
    x.status !== 200 || x.body.toString('latin1') !== body;
  if (c.kind === 'valid') {
    if (finals.length !== c.expect.length)
      return `${finals.length} answers to ${c.expect.length} valid requests (statuses [${finals.map((x) => x.status)}], ${r.closed ? 'closed' : 'open'})`;
    const bad = finals.findIndex((x, i) => wrong(x, c.expect[i]));
    return bad === -1
      ? null
      : `a valid request answered ${finals[bad].status} ${JSON.stringify(finals[bad].body.toString('latin1').slice(0, 60))}`;
  }
  if (c.kind === 'mutated') {
    const odd = finals.find((x) => x.status < 300 && !plausibleBody(x.body.toString('latin1')));
    return odd
      ? `a ${odd.status} whose body belongs to no page (desync?): ${JSON.stringify(odd.body.toString('latin1').slice(0, 60))}`
      : null;
  }
  if (finals.length === 0) return r.closed ? null : 'a malformed request got neither a refusal nor a close';
  const before = finals.slice(0, c.expect.length);
  if (before.some((x, i) => wrong(x, c.expect[i])))
    return `the valid request before the malformed one was answered [${before.map((x) => x.status)}] (a refusal in its place answers the wrong request)`;
  const after = finals.slice(c.expect.length);
  if (after.some((x) => x.status < 400))
    return `a malformed request answered ${after.find((x) => x.status < 400)!.status}`;
  if (!after.length && !r.closed) return 'a malformed request got neither a refusal nor a close';
  if (c.mustClose && !r.closed) return 'broken framing refused, but the connection stayed open';
  return null;
}

let server: ChildServer;
/** Failures by kind and verdict (numbers blanked): how many, of which case labels, and one example. */
const failures = new Map<string, { count: number; labels: Map<string, number>; example: FuzzCase }>();
const counts = {
  cases: 0,
  valid: 0,
  mutated: 0,
  malformed: 0,
  replayed: 0,
  failed: 0,
  silent: 0,
  closed: 0,
  crashes: 0,
  slowestMs: 0,
};

async function warm(): Promise<void> {
  await httpGet(server.port, '/hello.py', 30_000);
  await httpGet(server.port, '/body_len.py', 30_000, 'POST', 'x');
}

/** Null while the server answers its health check; else what became of it (a dead one is restarted). */
async function liveness(): Promise<string | null> {
  try {
    if ((await httpGet(server.port, '/-/health', DEADLINE_MS)).status === 200 && server.alive) return null;
  } catch {
    // refused or reset: dying or dead
  }
  const deadline = Date.now() + 3000;
  while (server.alive && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  if (server.alive) return 'the server is alive but failed its health check';
  counts.crashes++;
  const why = `the server died: ${crashSummary(server.crashes.at(-1))}`;
  await server.restart();
  await warm();
  return why;
}

function record(c: FuzzCase, verdict: string): void {
  counts.failed++;
  const key = `${c.kind}: ${verdict.replace(/\d+/g, 'N')}`;
  const seen = failures.get(key) ?? { count: 0, labels: new Map<string, number>(), example: c };
  const label = `${c.label}${c.fin ? ' +FIN' : ''}`;
  seen.count++;
  seen.labels.set(label, (seen.labels.get(label) ?? 0) + 1);
  failures.set(key, seen);
}

async function run(c: FuzzCase, replay = false): Promise<Result> {
  const finals = c.kind === 'valid' ? c.expect.length : c.kind === 'malformed' ? c.expect.length + 1 : Infinity;
  // Silence is an answer only to a mutated request (it may have been left incomplete); the others wait the full bound.
  const idleMs = c.kind === 'mutated' ? IDLE_MS : DEADLINE_MS;
  const r: Result = await exchange(server.port, c.bytes, { fin: c.fin, finals, idleMs, deadlineMs: DEADLINE_MS });
  if (replay) {
    counts.replayed++;
    return r;
  }
  counts.cases++;
  counts[c.kind]++;
  if (r.silent) counts.silent++;
  if (r.closed) counts.closed++;
  if (r.responses.length && r.ms > counts.slowestMs) counts.slowestMs = r.ms;
  return r;
}

/** A batch, then a health check; after a crash its cases are tried one by one to find the one that did it. */
async function runBatch(cases: FuzzCase[]): Promise<void> {
  const results = await Promise.all(cases.map((c) => run(c)));
  cases.forEach((c, i) => {
    const verdict = judge(c, results[i]);
    if (verdict) record(c, verdict);
  });
  const dead = await liveness();
  if (!dead) return;
  let found = false;
  for (const c of cases) {
    await run(c, true);
    const again = await liveness();
    if (again) {
      record(c, again);
      found = true;
    }
  }
  if (!found) record(cases[0], `${dead} (after a batch; no single case of it did it again)`);
}

function report(): void {
  console.log(
    `fuzz: seed ${SEED}, ${counts.cases} cases (${counts.valid} valid, ${counts.mutated} mutated, ${counts.malformed} malformed), ` +
      `${counts.closed} closed by the server, ${counts.silent} left waiting, slowest answer ${counts.slowestMs} ms; ${counts.failed} failed, ${counts.crashes} crashes ` +
      `(${counts.replayed} cases replayed one by one to find what crashed it)`,
  );
  console.log(`fuzz: reproduce with FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS} npx vitest run test/integration/fuzz.test.ts`);
  for (const [key, f] of [...failures].sort((a, b) => b[1].count - a[1].count)) {
    const labels = [...f.labels]
      .sort((a, b) => b[1] - a[1])
      .map(([l, n]) => `${l} (${n})`)
      .join(', ');
    console.log(
      `  ${f.count} x ${key}\n      cases: ${labels}\n      e.g. ${f.example.fin ? 'FIN after ' : ''}${JSON.stringify(f.example.bytes.toString('latin1').slice(0, 300))}`,
    );
  }
}

it(
  `answers ${RUNS} fuzzed requests well or closes, and lives (seed ${SEED})`,
  async () => {
    // A short idle-timeout: pages lose their worker between batches, so requests also meet cold pages.
    server = await startChildServer({ idleTimeout: 2 });
    try {
      await warm();
      const property = fc.asyncProperty(fc.array(fuzzCase, { minLength: BATCH, maxLength: BATCH }), runBatch);
      await fc.assert(property, { seed: SEED, numRuns: Math.ceil(RUNS / BATCH) });
      const left = await server.waitIdle(10_000);
      if (left)
        record(
          { kind: 'valid', label: 'the whole run', bytes: Buffer.alloc(0), fin: false, expect: [], mustClose: false },
          `${left} requests still counted in flight after every connection closed`,
        );
    } finally {
      report();
      await server.stop();
    }
    expect([...failures].map(([key, f]) => `${f.count} x ${key}`)).toEqual([]);
    expect(counts.crashes).toBe(0);
  },
  Math.max(180_000, RUNS * 250),
);
