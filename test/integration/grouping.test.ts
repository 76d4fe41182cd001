// One shared suite that every grouping strategy must pass: per-script,
// per-folder, global, and named groups chosen by glob. Only "who shares a
// process with whom" differs between them.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers.js';

const PAGES = ['g/a/one.py', 'g/a/two.py', 'g/b/three.py', 'g/c/four.py'];

type Shares = (a: string, b: string) => boolean;
const folder = (p: string) => p.slice(0, p.lastIndexOf('/'));

const modes: [string, Record<string, unknown>, Shares][] = [
  ['per-script', { grouping: 'per-script' }, (a, b) => a === b],
  ['per-folder', { grouping: 'per-folder' }, (a, b) => folder(a) === folder(b)],
  ['global', { grouping: 'global' }, () => true],
  [
    'named groups (first match wins, the rest per-script)',
    {
      groups: [
        { name: 'ab', match: ['g/a/**', 'g/b/*.py'] },
        { name: 'never', match: 'g/a/one.py' },
      ],
    },
    (a, b) => a === b || (['g/a', 'g/b'].includes(folder(a)) && ['g/a', 'g/b'].includes(folder(b))),
  ],
];

interface Who {
  pid: number;
  count: number;
  script: string;
  multithread: boolean;
  multiprocess: boolean;
}

describe.each(modes)('grouping: %s', (_name, overrides, shares) => {
  let s: TestServer;
  const who = async (page: string, query = ''): Promise<Who> =>
    (await s.get(`/${page}${query}`)).json() as Promise<Who>;

  beforeAll(async () => {
    s = await startTestServer(overrides);
    for (const page of PAGES) {
      mkdirSync(join(s.root, folder(page)), { recursive: true });
      copyFileSync(join(s.root, 'whoami.py'), join(s.root, page));
      copyFileSync(join(s.root, 'wsgi_check.py'), join(s.root, folder(page), 'wsgi_check.py'));
    }
  });
  afterAll(() => s.stop());

  it('serves every page as itself', async () => {
    for (const page of PAGES) expect((await who(page)).script).toBe(join(s.root, page));
  });

  it('runs pages in the same process exactly when they share a group', async () => {
    const pids = new Map<string, number>();
    for (const page of PAGES) pids.set(page, (await who(page)).pid);
    for (const a of PAGES)
      for (const b of PAGES) expect(pids.get(a) === pids.get(b), `${a} vs ${b}`).toBe(shares(a, b));
  });

  it('keeps module state across requests, per script even inside a shared process', async () => {
    const other = await who('g/a/two.py');
    const first = await who('g/a/one.py');
    const again = await who('g/a/one.py');
    expect(again.count).toBe(first.count + 1);
    expect((await who('g/a/two.py')).count).toBe(other.count + 1); // one.py's requests never counted here
  });

  it('runs new code after an edit', async () => {
    writeFileSync(
      join(s.root, 'g/c/four.py'),
      'def application(e, sr):\n    sr("200 OK", [])\n    return [b"edited"]\n',
    );
    expect(await (await s.get('/g/c/four.py')).text()).toBe('edited');
  });

  it('recovers when a worker of the group dies', async () => {
    copyFileSync(join(s.root, 'killed.py'), join(s.root, 'g/b/dies.py'));
    expect((await s.get('/g/b/dies.py')).status).toBe(502);
    expect((await who('g/b/three.py')).script).toBe(join(s.root, 'g/b/three.py'));
  });
});

describe('processes and threads', () => {
  let s: TestServer;
  beforeAll(async () => (s = await startTestServer({ processes: 2, threads: 1 })));
  afterAll(() => s.stop());

  it('tells the truth in wsgi.multiprocess and wsgi.multithread', async () => {
    const w = (await (await s.get('/whoami.py')).json()) as Who;
    expect(w.multiprocess).toBe(true);
    expect(w.multithread).toBe(false);
  });

  it("balances concurrent requests over the group's processes", async () => {
    // Two slow requests at once make the group start its second process...
    const warm = await Promise.all(
      [1, 2].map(() => s.get('/whoami.py?sleep=1.5').then((r) => r.json() as Promise<Who>)),
    );
    expect(new Set(warm.map((a) => a.pid)).size).toBe(2);
    // ...and from then on, requests go to whichever process is free.
    const answers = await Promise.all(
      [1, 2, 3, 4].map(() => s.get('/whoami.py?sleep=0.3').then((r) => r.json() as Promise<Who>)),
    );
    expect(new Set(answers.map((a) => a.pid))).toEqual(new Set(warm.map((a) => a.pid)));
  });

  it('runs `threads` requests at once in one process', async () => {
    const t = await startTestServer({ processes: 1, threads: 4 });
    try {
      const started = Date.now();
      const answers = await Promise.all(
        [1, 2, 3, 4].map(() => t.get('/whoami.py?sleep=0.5').then((r) => r.json() as Promise<Who>)),
      );
      expect(new Set(answers.map((a) => a.pid)).size).toBe(1);
      expect(answers[0].multithread).toBe(true);
      expect(Date.now() - started).toBeLessThan(1500); // four 0.5 s requests overlapped, not 2 s in a row
    } finally {
      await t.stop();
    }
  });
});
