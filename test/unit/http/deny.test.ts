// deny: globs and the built-in denials, through the resolver that applies them.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { denyRules } from '../../../lib/http/deny.js';
import { DEFAULT_INDEX, resolve } from '../../../lib/http/resolve.js';
import { removeDir, tempDir } from '../../helpers.js';

const root = tempDir('pypages-deny-');
afterAll(() => removeDir(root));
const files = [
  'app.db',
  'sub/APP.DB',
  'secrets.json',
  'data/x/report.csv',
  'sub/data/ok.txt',
  'pypages.yaml',
  'sub/.pypages.yaml',
  'sub/PyPages.yaml',
  'venv/pyvenv.cfg',
  'venv/bin/activate',
  'users/alice/env/pyvenv.cfg',
  'users/alice/env/bin/pip',
  'users/alice/env/lib/site.py',
  'users/alice/page.html',
  'users/alice/ok.py',
  'plain/readme.txt',
];
for (const f of files) {
  mkdirSync(path.join(root, path.dirname(f)), { recursive: true });
  writeFileSync(path.join(root, f), 'x');
}
symlinkSync(path.join(root, 'venv'), path.join(root, 'linked'));

const rules = denyRules(['*.db', 'secrets.*', '/data/**']);
const kind = (url: string, deny = rules) => resolve(root, url, '', { index: DEFAULT_INDEX, deny }).kind;

describe('deny globs', () => {
  it.each([['/app.db'], ['/sub/APP.DB'], ['/secrets.json'], ['/data/x/report.csv']])('%s is a 404', (url) =>
    expect(kind(url)).toBe('not-found'),
  );
  it.each([['/sub/data/ok.txt'], ['/plain/readme.txt'], ['/users/alice/page.html']])('%s is served', (url) =>
    expect(kind(url)).toBe('static'),
  );
  it('denies nothing without globs but the built-in rules', () => {
    expect(kind('/app.db', denyRules([]))).toBe('static');
    expect(kind('/secrets.json', denyRules([]))).toBe('static');
  });
  it('a glob with a slash is anchored at the root, with or without its leading slash', () => {
    expect(kind('/data/x/report.csv', denyRules(['data/**']))).toBe('not-found');
    expect(kind('/sub/data/ok.txt', denyRules(['data/**']))).toBe('static');
  });
});

describe('built-in denials (no setting removes them)', () => {
  it.each([
    ['/pypages.yaml'],
    ['/sub/.pypages.yaml'],
    ['/sub/PyPages.yaml'],
    ['/venv/pyvenv.cfg'],
    ['/venv/bin/activate'],
    ['/venv/'],
    ['/venv'],
    ['/users/alice/env/bin/pip'],
    ['/users/alice/env/lib/site.py'],
    ['/users/alice/env/pyvenv.cfg'],
    ['/linked/bin/activate'],
  ])('%s is a 404', (url) => expect(kind(url, denyRules([]))).toBe('not-found'));

  it('a page next to a virtualenv is still a page', () => {
    expect(kind('/users/alice/ok.py', denyRules([]))).toBe('script');
  });
});
