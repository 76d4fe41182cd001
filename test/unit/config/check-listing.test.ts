// pypages --check reads the configuration listing every bad setting (each
// key of the file, each flag, each site's keys) and keeps the good ones, where
// serving stops at the first.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, parseCli } from '../../../lib/config/config.js';
import { removeDir, tempDir } from '../../helpers.js';

const dir = tempDir('pypages-check-');
afterAll(() => removeDir(dir));
for (const name of ['main', 'shop']) mkdirSync(path.join(dir, name));

const YAML = `root: main
max-body: lots
thread: 3
threads: 5
sites:
  - name: shop
    hosts: [shop.test]
    root: shop
    max-body: lots
    procesess: 2
    index: [shop.html]
  - name: blog
    hosts: [blog.test]
    root: nowhere
    debug: maybe
  - name: shop
    hosts: [x.test]
    root: shop
default-site: blog
`;

describe('parseCli with --check', () => {
  writeFileSync(path.join(dir, 'pypages.yaml'), YAML);

  it('lists every bad key, flag and site key, and keeps the good values', () => {
    const parsed = parseCli(['--check', '--port', 'x', '--host', '0.0.0.0', '--dev'], dir);
    if (parsed.kind !== 'check') throw new Error(parsed.kind);
    expect(parsed.problems).toEqual([
      expect.stringMatching(/^pypages\.yaml: max-body: must be a size .*\(got "lots"\)$/),
      expect.stringMatching(/^pypages\.yaml: unknown key "thread"; .*Did you mean "threads"\?$/),
      expect.stringMatching(/^pypages\.yaml: sites: sites\[0\]\.max-body must be a size .*\(got "lots"\)$/),
      expect.stringMatching(/^pypages\.yaml: sites: sites\[0\] has unknown key "procesess" \(allowed: name, hosts/),
      expect.stringMatching(/^pypages\.yaml: sites: sites\[1\]\.debug must be true or false \(got "maybe"\)$/),
      expect.stringMatching(/^pypages\.yaml: sites: sites\[1\]\.root must be an existing directory/),
      expect.stringMatching(/^pypages\.yaml: sites: sites\[2\]\.name must be unique .*\(got "shop"\)$/),
      '--port: must be an integer from 0 to 65535 (got "x")',
      'default-site: must be "default", "reject" or the name of a site of sites: (shop) (got "blog")',
      expect.stringMatching(/^dev: dev mode shows your code.* host 0\.0\.0\.0 /),
    ]);
    expect(parsed.config).toMatchObject({ threads: 5, maxBody: 2 ** 30, root: path.join(dir, 'main') });
    expect(parsed.config?.sites.map((s) => [s.name, s.values])).toEqual([['shop', { index: ['shop.html'] }]]);
  });

  it('has no config to walk when the root is wrong, and lists it once', () => {
    const parsed = parseCli(['--check', path.join(dir, 'gone'), '--port', 'x'], path.join(dir, 'main'));
    if (parsed.kind !== 'check') throw new Error(parsed.kind);
    expect(parsed.config).toBeNull();
    expect(parsed.problems.filter((p) => /^DIR: /.test(p))).toHaveLength(1); // not the default www as well
    expect(parsed.problems).toContain('--port: must be an integer from 0 to 65535 (got "x")');
  });

  it('still stops at the first problem when serving', () => {
    expect(() => parseCli([], dir)).toThrow(ConfigError);
    expect(() => parseCli([], dir)).toThrow(/^pypages\.yaml: max-body: must be a size/);
  });
});
