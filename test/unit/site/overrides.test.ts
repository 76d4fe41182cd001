// .pypages.yaml parsing and merging, without a server.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeConfig } from '../../../lib/config/config.js';
import { parseOverrides, SiteFolders } from '../../../lib/site/overrides.js';
import { sitesOf } from '../../../lib/site/site.js';
import { removeDir, tempDir } from '../../helpers.js';

const root = tempDir('pypages-over-');
afterAll(() => removeDir(root));
const write = (file: string, text: string) => {
  mkdirSync(path.join(root, path.dirname(file)), { recursive: true });
  writeFileSync(path.join(root, file), text);
  return path.join(root, file);
};
const ALL = ['index', 'deny', 'debug', 'max-body'];

describe('parseOverrides', () => {
  it.each([
    ['index: [a.py]\nmax-body: 1K\ndebug: true', { index: ['a.py'], maxBody: 1024, debug: true }],
    ['', {}],
    ['deny: "*.db, /x/**"', { deny: ['*.db', '/x/**'] }],
  ])('%j', (yaml, values) => expect(parseOverrides(write('ok/.pypages.yaml', yaml), ALL)).toEqual(values));

  it.each([
    ['port: 80', ALL, "port: not allowed in a folder's .pypages.yaml (allow-override: index, deny, debug, max-body)"],
    ['debug: true', ['index'], 'debug: not allowed'],
    ['max-body: lots', ALL, 'max-body: must be a size'],
    ['index: [', ALL, 'invalid YAML'],
    ['- a', ALL, 'must be a mapping'],
  ])('%j is refused, naming the file and key', (yaml, allowed, message) => {
    const file = write('bad/.pypages.yaml', yaml);
    expect(parseOverrides(file, allowed)).toContain(`${file}: ${message}`);
  });
});

describe('SiteFolders', () => {
  it('merges from the root down: deeper wins; deny globs add up, anchored at their folder', () => {
    write('m/.pypages.yaml', 'index: [m.html]\ndeny: ["*.db"]\n');
    write('m/n/.pypages.yaml', 'debug: true\ndeny: [/secret/**]\n');
    const site = sitesOf(makeConfig({ root, allowOverride: ALL, deny: ['*.bak'] }), 'python3').fallback;
    const folders = new SiteFolders(site);
    const deep = folders.siteAt(path.join(root, 'm', 'n'));
    expect(deep).toMatchObject({ index: ['m.html'], debug: true, name: 'default' });
    expect(typeof deep !== 'string' && deep.deny.globs).toEqual(['*.bak', 'm/**/*.db', 'm/n/secret/**']);
    expect(folders.siteAt(root)).toBe(site);
    expect(folders.rules(root)).toBeUndefined();
    expect(folders.siteAt(path.join(root, 'm', 'n'))).toBe(deep);
  });
});
