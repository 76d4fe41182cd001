// A worker's working directory in every grouping mode: the folder of the
// script that starts its group, so open("data.txt") works as it would from
// the command line; the cwd setting, when given, wins.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { removeDir, serveTempRoot, tempDir, type TestServer } from '../helpers.js';

const PAGE = `import os


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    with open("data.txt") as f:
        return [(os.getcwd() + "|" + f.read()).encode()]
`;

function populate(root: string): void {
  mkdirSync(join(root, 'users/alice/app'), { recursive: true });
  writeFileSync(join(root, 'users/alice/app/page.py'), PAGE);
  writeFileSync(join(root, 'users/alice/app/data.txt'), 'alice');
}

const modes: [string, Record<string, unknown>][] = [
  ['per-script', { grouping: 'per-script' }],
  ['per-folder', { grouping: 'per-folder' }],
  ['global', { grouping: 'global' }],
  ['a named group', { groups: [{ name: 'alice', match: ['users/alice/**'] }] }],
  ['a named group in global mode', { grouping: 'global', groups: [{ name: 'alice', match: 'users/**' }] }],
];

describe('working directory', () => {
  let s: TestServer | undefined;
  afterEach(async () => {
    await s?.stop();
    s = undefined;
  });

  it.each(modes)("%s: the script's folder", async (_name, overrides) => {
    s = await serveTempRoot(populate, overrides as never);
    const res = await s.get('/users/alice/app/page.py');
    expect(await res.text()).toBe(`${join(s.root, 'users/alice/app')}|alice`);
  });

  it('the cwd setting wins, in a named group too', async () => {
    const dataDir = tempDir('pypages-cwd-');
    writeFileSync(join(dataDir, 'data.txt'), 'from cwd');
    try {
      s = await serveTempRoot(populate, { groups: [{ name: 'a', match: '**', cwd: dataDir }] } as never);
      const res = await s.get('/users/alice/app/page.py');
      expect(await res.text()).toBe(`${dataDir}|from cwd`);
    } finally {
      removeDir(dataDir);
    }
  });
});
