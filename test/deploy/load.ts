// A bounded load: `clients` clients, each sending one request after another
// over its own keep-alive connection until told to stop, or until the hard
// limits (time and count) are reached. Three in four requests are GETs of a
// page that takes 0 to 100 ms; one in four POSTs a 16 KiB body that must
// arrive whole. Every answer is checked and counted.

import { Agent, request } from 'node:http';

export interface LoadCounts {
  sent: number;
  answered: number;
  failed: number;
  /** Why requests failed: an error or status, with how many times. */
  failures: Record<string, number>;
  /** Answers per instance name, and per instance process (pid of its worker). */
  byInstance: Record<string, number>;
  workerPids: Set<number>;
}

export interface LoadOptions {
  port: number;
  clients: number;
  /** Hard limits: the load stops at whichever comes first, even if never told to. */
  maxSeconds: number;
  maxRequests: number;
  /** Each client's pause between requests. */
  thinkMs: number;
}

const BODY = Buffer.alloc(16 * 1024, 3);

interface Answer {
  status: number;
  json?: { instance: string; pid: number; received: number; sum: number };
}

function send(agent: Agent, port: number, n: number): Promise<Answer> {
  const post = n % 4 === 3;
  const path = post ? '/instance.py' : `/instance.py?sleep=${(n % 11) / 100}`;
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, agent, method: post ? 'POST' : 'GET', timeout: 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          const ok = res.statusCode === 200 && res.headers['content-type'] === 'application/json';
          resolve({ status: res.statusCode!, json: ok ? JSON.parse(text) : undefined });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 30 s')));
    req.on('error', reject);
    req.end(post ? BODY : undefined);
  });
}

function check(answer: Answer, n: number): string | null {
  if (answer.status !== 200 || !answer.json) return `status ${answer.status}`;
  const expected = n % 4 === 3 ? BODY.length : 0;
  if (answer.json.received !== expected || answer.json.sum !== expected * 3) return 'body not received whole';
  return null;
}

/** Starts the load; `stop()` ends it and resolves with the counts once every client has had its last answer. */
export function startLoad(options: LoadOptions): { stop: () => Promise<LoadCounts>; counts: LoadCounts } {
  const counts: LoadCounts = { sent: 0, answered: 0, failed: 0, failures: {}, byInstance: {}, workerPids: new Set() };
  const deadline = Date.now() + options.maxSeconds * 1000;
  let stopping = false;
  const running = () => !stopping && Date.now() < deadline && counts.sent < options.maxRequests;
  const fail = (why: string) => {
    counts.failed++;
    counts.failures[why] = (counts.failures[why] ?? 0) + 1;
  };
  const client = async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    while (running()) {
      const n = counts.sent++;
      try {
        const answer = await send(agent, options.port, n);
        const problem = check(answer, n);
        if (problem) fail(problem);
        else {
          counts.answered++;
          counts.byInstance[answer.json!.instance] = (counts.byInstance[answer.json!.instance] ?? 0) + 1;
          counts.workerPids.add(answer.json!.pid);
        }
      } catch (err) {
        fail((err as NodeJS.ErrnoException).code ?? (err as Error).message);
      }
      await new Promise((r) => setTimeout(r, options.thinkMs));
    }
    agent.destroy();
  };
  const clients = Promise.all(Array.from({ length: options.clients }, client));
  return {
    counts,
    stop: async () => {
      stopping = true;
      await clients;
      return counts;
    },
  };
}
