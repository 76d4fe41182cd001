// A small run of `npm run bench:hosting` (bench/hosting.mjs), pypages only:
// 2 users × 2 scripts, one of them idle and probed, 4 s of load. It pins that
// the harness works end to end as root (users made and removed, user folders
// served as their users, wrk's Zipf mix, the prober, PSS sampling, the JSON)
// and that pypages answers every request, reaps idle groups and starts them
// again. Needs root (useradd) and wrk: skipped otherwise, by name.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, tempDir } from '../helpers.js';
import { isRoot } from '../tenant-users.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const hasWrk = spawnSync('sh', ['-c', 'command -v wrk']).status === 0;
const built = spawnSync('test', ['-f', path.join(REPO, 'dist/server/cli.js')]).status === 0;

describe.skipIf(!isRoot || !hasWrk || !built)('bench:hosting smoke run (root, wrk and a build needed)', () => {
  const out = tempDir('pypages-hosting-smoke-');
  afterAll(() => removeDir(out));

  it('serves 2 users × 2 scripts under Zipf load with no error, and a probed idle user gets a cold start', () => {
    const args = [
      '--users',
      '2',
      '--idle-users',
      '1',
      '--scripts',
      '2',
      '--seconds',
      '4',
      '--warmup',
      '1',
      '--idle-timeout',
      '1',
    ];
    const more = ['--probe-spread', '2', '--servers', 'pypages', '--once-servers', 'none', '--connections', '4'];
    const run = spawnSync(process.execPath, ['bench/hosting.mjs', ...args, ...more, '--out', out], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const file = readdirSync(out).find((f) => f.endsWith('.json'));
    const { mix } = JSON.parse(readFileSync(path.join(out, String(file)), 'utf8'));
    const [r] = mix;
    expect(r.failed).toBeUndefined();
    expect(r.requests).toBeGreaterThan(100);
    expect(r.errors).toBe(0);
    expect(r.cold.errors).toBe(0);
    expect(r.cold.n).toBeGreaterThanOrEqual(1); // the idle user was asked after its idle timeout
    expect(r.reaped).toBeGreaterThanOrEqual(1); // and pypages had stopped an idle group meanwhile
    expect(r.pss.peak).toBeGreaterThan(20 * 2 ** 20);
    expect(run.stdout).toContain('| pypages |');
    const base = /run folder (\S+);/.exec(run.stderr)?.[1];
    expect(base).toMatch(/^\/tmp\/pypages-hosting-/);
    const left = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .filter((l) => l.includes(`${base}/`));
    expect(left).toEqual([]); // its users are gone
  });
});
