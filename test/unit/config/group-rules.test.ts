import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { globToRegExp, GROUPS_ALLOWED, type GroupRule } from '../../../lib/config/group-rules.js';
import { InvalidValue, type ValueContext } from '../../../lib/config/setting-parsers.js';
import { SETTINGS } from '../../../lib/config/settings.js';

let base: string;
let ctx: ValueContext;

beforeAll(() => {
  base = realpathSync(mkdtempSync(path.join(tmpdir(), 'pypages-groups-')));
  mkdirSync(path.join(base, 'data'));
  mkdirSync(path.join(base, 'venvs/alice'), { recursive: true });
  ctx = { from: 'yaml', base };
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

const parse = (raw: unknown): readonly GroupRule[] => SETTINGS.groups.parse(raw, ctx);

/** The allowed text and reported value of the InvalidValue thrown for `raw`. */
function rejected(raw: unknown): InvalidValue {
  try {
    parse(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidValue);
    return err as InvalidValue;
  }
  throw new Error('expected an InvalidValue');
}

const KEYS =
  'name, match, processes, threads, python, python-path, env, cwd, preload, venv, user, group, umask, limit-memory, limit-cpu, limit-processes, limit-open-files, limit-file-size, tenant-memory, tenant-cpu, tenant-processes, tenant-max-workers, tenant-max-requests';

describe('parseGroupRules (SETTINGS.groups.parse)', () => {
  it('accepts an empty list', () => {
    const rules = parse([]);
    expect(rules).toEqual([]);
    expect(Object.isFrozen(rules)).toBe(true);
  });

  it('parses a rule with no overrides; match as a single glob', () => {
    const [rule] = parse([{ name: 'api', match: 'api/**' }]);
    expect(rule).toEqual({ name: 'api', match: ['api/**'], test: expect.any(Function), overrides: {} });
    expect(rule.test('api/v1/users.py')).toBe(true);
    expect(rule.test('web/index.py')).toBe(false);
  });

  it('parses match as a list: any glob matches', () => {
    const [rule] = parse([{ name: 'mixed', match: ['admin/*.py', 'tools/**'] }]);
    expect(rule.match).toEqual(['admin/*.py', 'tools/**']);
    expect(rule.test('admin/index.py')).toBe(true);
    expect(rule.test('tools/a/b.py')).toBe(true);
    expect(rule.test('admin/deep/index.py')).toBe(false);
  });

  it("parses every override with its setting's parser, keyed by setting name", () => {
    const [rule] = parse([
      {
        name: 'alice',
        match: ['users/alice/**'],
        processes: 2,
        threads: '4',
        python: 'venvs/alice',
        'python-path': 'lib, /opt/shared',
        env: { MODE: 'test', N: 3 },
        cwd: 'data',
        preload: ['./users/alice/app.py'],
        venv: 'off',
      },
    ]);
    expect(rule.name).toBe('alice');
    expect(rule.overrides).toEqual({
      processes: 2,
      threads: 4,
      python: path.join(base, 'venvs/alice'),
      pythonPath: [path.join(base, 'lib'), '/opt/shared'],
      env: { MODE: 'test', N: '3' },
      cwd: path.join(base, 'data'),
      preload: ['users/alice/app.py'],
      venv: 'off',
    });
  });

  it('offers exactly the per-group settings', () => {
    const err = rejected([{ name: 'a', match: 'a/**', port: 80 }]);
    expect(err.allowed).toBe(`${GROUPS_ALLOWED}; groups[0] has unknown key "port" (allowed: ${KEYS})`);
    expect(err.got).toBe('port');
  });

  it('keeps the rules in order, frozen', () => {
    const rules = parse([
      { name: 'a', match: 'a/**', threads: 2 },
      { name: 'b.c-d_1', match: ['b/**'] },
    ]);
    expect(rules.map((r) => r.name)).toEqual(['a', 'b.c-d_1']);
    expect(Object.isFrozen(rules)).toBe(true);
    for (const rule of rules) {
      expect(Object.isFrozen(rule)).toBe(true);
      expect(Object.isFrozen(rule.match)).toBe(true);
      expect(Object.isFrozen(rule.overrides)).toBe(true);
    }
    expect(() => {
      (rules[0].overrides as Record<string, unknown>).threads = 8;
    }).toThrow(TypeError);
  });

  it('does not share the match list with the input', () => {
    const match = ['a/**'];
    const [rule] = parse([{ name: 'a', match }]);
    match.push('b/**');
    expect(rule.match).toEqual(['a/**']);
  });

  it.each<[string, unknown, string, unknown]>([
    ['threads 0', { threads: 0 }, 'groups[1].threads must be an integer from 1 to 512', 0],
    ['threads as a word', { threads: 'many' }, 'groups[1].threads must be an integer from 1 to 512', 'many'],
    ['processes 65', { processes: 65 }, 'groups[1].processes must be an integer from 1 to 64', 65],
    [
      'python as a list',
      { python: ['python3'] },
      'groups[1].python must be a Python interpreter (path or command) or a virtualenv folder',
      ['python3'],
    ],
    ['python-path as a number', { 'python-path': 5 }, 'groups[1].python-path must be a list of folders', 5],
    [
      'env as a list',
      { env: ['A=1'] },
      'groups[1].env must be a mapping of environment variable names to strings',
      ['A=1'],
    ],
    [
      'env with a bad name',
      { env: { 'A-B': '1' } },
      'groups[1].env must be a mapping of environment variable names to strings',
      { 'A-B': '1' },
    ],
    [
      'cwd missing',
      { cwd: 'nowhere' },
      'groups[1].cwd must be a folder, or "" for the script\'s own folder',
      'nowhere',
    ],
    [
      'preload outside the root',
      { preload: ['../x.py'] },
      'groups[1].preload must be a list of script paths relative to the document root (e.g. app.py, blog/index.py)',
      ['../x.py'],
    ],
    ['venv on', { venv: 'on' }, 'groups[1].venv must be "auto" or "off"', 'on'],
  ])('rejects an override (%s), naming the group and key', (_, override, message, got) => {
    const err = rejected([
      { name: 'ok', match: 'ok/**' },
      { name: 'bad', match: 'bad/**', ...(override as object) },
    ]);
    expect(err.allowed).toBe(`${GROUPS_ALLOWED}; ${message}`);
    expect(err.got).toEqual(got);
  });

  it.each<[string, unknown, string, unknown]>([
    ['a string', 'alice', '', 'alice'],
    ['a mapping', { name: 'a', match: 'a/**' }, '', { name: 'a', match: 'a/**' }],
    ['null', null, '', null],
    ['a number', 5, '', 5],
    ['a list of strings', ['alice'], '; groups[0] is not a mapping', 'alice'],
    ['a list with null', [null], '; groups[0] is not a mapping', null],
    ['a list of lists', [[{ name: 'a' }]], '; groups[0] is not a mapping', [{ name: 'a' }]],
    ['a missing name', [{ match: 'a/**' }], '; groups[0].name must be a word (letters, digits, _ . -)', undefined],
    ['an empty name', [{ name: '', match: 'a/**' }], '; groups[0].name must be a word (letters, digits, _ . -)', ''],
    [
      'a name with a space',
      [{ name: 'a b', match: 'a/**' }],
      '; groups[0].name must be a word (letters, digits, _ . -)',
      'a b',
    ],
    [
      'a name with a slash',
      [{ name: 'a/b', match: 'a/**' }],
      '; groups[0].name must be a word (letters, digits, _ . -)',
      'a/b',
    ],
    ['a numeric name', [{ name: 5, match: 'a/**' }], '; groups[0].name must be a word (letters, digits, _ . -)', 5],
    ['a missing match', [{ name: 'a' }], '; groups[0].match must be a glob or a list of globs', undefined],
    ['an empty match', [{ name: 'a', match: '' }], '; groups[0].match must be a glob or a list of globs', ''],
    ['an empty match list', [{ name: 'a', match: [] }], '; groups[0].match must be a glob or a list of globs', []],
    [
      'an empty glob in the list',
      [{ name: 'a', match: ['a/**', ''] }],
      '; groups[0].match must be a glob or a list of globs',
      ['a/**', ''],
    ],
    [
      'a number in the list',
      [{ name: 'a', match: ['a/**', 5] }],
      '; groups[0].match must be a glob or a list of globs',
      ['a/**', 5],
    ],
    [
      'a mapping as match',
      [{ name: 'a', match: { glob: 'a/**' } }],
      '; groups[0].match must be a glob or a list of globs',
      { glob: 'a/**' },
    ],
    [
      'an unknown key',
      [{ name: 'a', match: 'a/**', colour: 'red' }],
      `; groups[0] has unknown key "colour" (allowed: ${KEYS})`,
      'colour',
    ],
    [
      'a top-level-only setting',
      [{ name: 'a', match: 'a/**', grouping: 'global' }],
      `; groups[0] has unknown key "grouping" (allowed: ${KEYS})`,
      'grouping',
    ],
    [
      'a camelCase key',
      [{ name: 'a', match: 'a/**', pythonPath: ['lib'] }],
      `; groups[0] has unknown key "pythonPath" (allowed: ${KEYS})`,
      'pythonPath',
    ],
    [
      'a duplicate name',
      [
        { name: 'a', match: 'a/**' },
        { name: 'b', match: 'b/**' },
        { name: 'a', match: 'c/**' },
      ],
      '; groups[2].name must be unique',
      'a',
    ],
  ])('rejects %s', (_, raw, detail, got) => {
    const err = rejected(raw);
    expect(err.allowed).toBe(`${GROUPS_ALLOWED}${detail}`);
    expect(err.got).toEqual(got);
  });

  it('names the first bad group, counting from 0', () => {
    const err = rejected([{ name: 'a', match: 'a/**' }, { name: 'b', match: 'b/**' }, { name: 'c' }, { name: '' }]);
    expect(err.allowed).toBe(`${GROUPS_ALLOWED}; groups[2].match must be a glob or a list of globs`);
  });

  it('resolves relative override paths against ctx.base', () => {
    const [rule] = SETTINGS.groups.parse(
      [{ name: 'a', match: '**', 'python-path': ['lib'], python: './py/bin/python' }],
      {
        from: 'api',
        base: '/srv/site',
      },
    );
    expect(rule.overrides).toEqual({ pythonPath: ['/srv/site/lib'], python: '/srv/site/py/bin/python' });
  });
});

describe('globToRegExp', () => {
  it.each<[string, string[], string[]]>([
    ['app.py', ['app.py'], ['xapp.py', 'app.pyc', 'a/app.py', 'app_py']],
    ['*.py', ['app.py', '.py', 'a.b.py'], ['a/app.py', 'app.pyc']],
    ['blog/*', ['blog/index.py', 'blog/'], ['blog/a/index.py', 'blog', 'xblog/a.py']],
    ['blog/*.py', ['blog/a.py'], ['blog/a/b.py', 'blog.py']],
    ['blog/**', ['blog/a.py', 'blog/a/b/c.py'], ['blog', 'blogs/a.py', 'x/blog/a.py']],
    ['**', ['a.py', 'a/b/c.py'], []],
    ['**/index.py', ['index.py', 'a/index.py', 'a/b/index.py'], ['xindex.py', 'a/xindex.py', 'index.pyc']],
    ['a/**/b.py', ['a/b.py', 'a/x/b.py', 'a/x/y/b.py'], ['a/xb.py', 'b.py', 'ab.py']],
    ['**.py', ['a.py', 'a/b/c.py'], ['a.pyc']],
    ['a/**b.py', ['a/b.py', 'a/xb.py', 'a/x/yb.py'], ['b.py']],
    ['?.py', ['a.py', '1.py'], ['ab.py', '.py', '/.py']],
    ['a?c/*.py', ['abc/x.py', 'a-c/x.py'], ['a/c/x.py', 'ac/x.py']],
    ['/app.py', ['app.py'], ['/app.py', 'x/app.py']],
    ['/blog/**', ['blog/a.py'], ['/blog/a.py']],
    ['/**/x.py', ['x.py', 'a/x.py', 'a/b/x.py'], ['ax.py', 'x.pyc']],
    ['a+b.py', ['a+b.py'], ['aab.py', 'aaab.py', 'ab.py']],
    ['a.py', ['a.py'], ['aXpy']],
    ['(x)|[y]{2}^$.py', ['(x)|[y]{2}^$.py'], ['x', 'yy.py']],
    ['back\\slash.py', ['back\\slash.py'], ['backslash.py']],
    ['users/alice/**', ['users/alice/app.py', 'users/alice/x/y.py'], ['users/alicebob/app.py', 'users/bob/app.py']],
  ])('%s', (glob, matching, other) => {
    const re = globToRegExp(glob);
    for (const p of matching) expect(re.test(p), `${glob} should match ${p}`).toBe(true);
    for (const p of other) expect(re.test(p), `${glob} should not match ${p}`).toBe(false);
  });

  it('is anchored at both ends', () => {
    expect(globToRegExp('a/*').source.startsWith('^')).toBe(true);
    expect(globToRegExp('a/*').source.endsWith('$')).toBe(true);
  });
});

describe('rule.test', () => {
  it("matches script paths relative to the document root; first match wins is the caller's choice", () => {
    const rules = parse([
      { name: 'alice', match: 'users/alice/**' },
      { name: 'users', match: ['users/**', 'members/*.py'] },
    ]);
    const first = (p: string) => rules.find((r) => r.test(p))?.name ?? null;
    expect(first('users/alice/app.py')).toBe('alice');
    expect(first('users/bob/app.py')).toBe('users');
    expect(first('members/x.py')).toBe('users');
    expect(first('members/a/x.py')).toBeNull();
    expect(first('index.py')).toBeNull();
    expect(rules[1].test('users/alice/app.py')).toBe(true);
  });
});
