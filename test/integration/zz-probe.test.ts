import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { it } from 'vitest';
import { makeConfig } from '../../lib/config/config.js';
import { memoryLogger } from '../../lib/util/log.js';
import { startPypages } from '../../server/app.js';
import { FIXTURES, tempDir, waitFor } from '../helpers.js';
import { hostRequest, liveOf } from '../tenant-load.js';
it('probe', async () => {
  const base = tempDir('probe-');
  const roots = Object.fromEntries(['main', 'a', 'b'].map((n) => [n, path.join(base!, n)]));
  for (const root of Object.values(roots)) {
    mkdirSync(root);
    for (let i = 1; i <= 4; i++) copyFileSync(path.join(FIXTURES, 'sleepy.py'), path.join(root, `s${i}.py`));
  }
  const log = memoryLogger();
  const T0 = performance.now();
  const infos: string[] = [];
  (log as any).info = (m: string) => infos.push(`${Math.round(performance.now() - T0)} ${m}`);
  const s = await startPypages(makeConfig({ root: roots.main, port: 0, host: '127.0.0.1', dev: false, allowRootPages: true, maxWorkers: 1, queueTimeout: 20,
    sites: [{ name: 'a', hosts: ['a.test'], root: roots.a }, { name: 'b', hosts: ['b.test'], root: roots.b }] as never }), { log });
  let stop = false;
  const flood = [...Array(8).keys()].map(async (c) => {
    await new Promise((r) => setTimeout(r, c * 65));
    for (let n = 0; !stop && n < 40; n++) await hostRequest(s, 'a.test', `/s${(c % 4) + 1}.py?s=0.5`).catch(() => 0);
  });
  await waitFor(() => liveOf(s, 'a') === 1, 'flood');
  await new Promise((r) => setTimeout(r, 3000));
  const t0 = performance.now();
  infos.push(`${Math.round(t0 - T0)} B starts`);
  const times: number[] = [];
  let ok = 0;
  while (performance.now() - t0 < 15000) {
    const t = performance.now();
    const r = await hostRequest(s, 'b.test', '/s1.py?s=0.1');
    if (r.status === 200) ok++;
    times.push(Math.round(performance.now() - t));
  }
  stop = true;
  await Promise.all(flood);
  const sorted = [...times].sort((a, b) => a - b);
  console.log(`B in 15 s: ${ok} ok of ${times.length}; p50 ${sorted[sorted.length >> 1]} p90 ${sorted[Math.floor(sorted.length * 0.9)]} max ${sorted.at(-1)}; slow ones: ${times.filter((x) => x > 400).join(' ')}`);
  console.log(infos.filter((l) => /turn|room|B starts/.test(l)).join('\n'));
  await s.close();
}, 120000);
