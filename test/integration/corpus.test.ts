// The request corpus: test/corpus/http/*.http, each a raw request and the
// outcome RFC 9112 (or issue 10) asks for (format: test/corpus/http/README.md).
// One server for all, one connection per entry, in file order. The server
// runs in a child process: an entry that crashes it fails (with the server's
// last words) and the next entry gets a new server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crashSummary, httpGet, startChildServer, type ChildServer } from '../harness/child-server.mjs';
import { describeOutcome, judge, loadCorpus } from '../harness/corpus.mjs';
import { exchange } from '../harness/http-wire.mjs';

const entries = loadCorpus();
const verdicts = new Map<string, string | null>();
let server: ChildServer;

/** Warm pages answer in milliseconds, so the idle bound below means "the server is waiting", not "Python is starting". */
async function warm(): Promise<void> {
  await httpGet(server.port, '/hello.py', 30_000);
  await httpGet(server.port, '/body_len.py', 30_000, 'POST', 'x');
}

/** Null while the server is alive and answers; else what happened to it (after the entry that did it). */
async function crashAfterEntry(): Promise<string | null> {
  try {
    const health = await httpGet(server.port, '/-/health', 10_000);
    if (health.status === 200 && server.alive) return null;
  } catch {
    // refused or reset: it is dying or dead; its exit says why
  }
  const deadline = Date.now() + 3000;
  while (server.alive && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  if (server.alive) return 'the server is alive but did not answer a health check within 10 s';
  return `the server died: ${crashSummary(server.crashes.at(-1))}`;
}

beforeAll(async () => {
  server = await startChildServer();
  await warm();
});

afterAll(async () => {
  const failed = [...verdicts].filter(([, v]) => v !== null);
  console.log(
    `request corpus: ${verdicts.size} entries, ${verdicts.size - failed.length} passed, ${failed.length} failed; server crashes: ${server?.crashes.length ?? 0}`,
  );
  for (const [name, why] of failed) console.log(`  FAIL ${name}: ${why}`);
  await server?.stop();
});

describe('request corpus (RFC 9112 framing)', () => {
  it('has entries', () => {
    expect(entries.length).toBeGreaterThan(50);
  });

  it.each(entries.map((e) => [e.name, e] as const))('%s', async (_name, entry) => {
    if (!server.alive) {
      await server.restart();
      await warm();
    }
    const result = await exchange(server.port, entry.bytes, {
      fin: entry.fin,
      head: entry.head,
      finals: Infinity,
      idleMs: 3000,
      deadlineMs: 20_000,
    });
    const crash = await crashAfterEntry();
    const verdict = crash ? `${crash} (the exchange: ${describeOutcome(result)})` : judge(entry, result);
    verdicts.set(entry.name, verdict);
    expect(verdict, `${entry.name}: ${entry.meta.why} [${entry.meta.rfc}]`).toBeNull();
  });

  it('leaves no request in flight once every connection is gone', async () => {
    expect(await server.waitIdle(10_000)).toBe(0);
  });
});
