// Exhaustive table for lib/http/resolve.ts: one row per URL rule and per trap,
// against a real temporary document root (symlinks, fifo, socket included).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolve, type Target } from '../../../lib/http/resolve.js';

const APP = 'def application(environ, start_response):\n    pass\n';

/** Builds `files` (path → content, or a symlink target after '->') under `base`. */
function build(base: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(base, rel);
    fs.mkdirSync(rel.endsWith('/') ? p : path.dirname(p), { recursive: true });
    if (rel.endsWith('/')) continue;
    if (content.startsWith('->')) fs.symlinkSync(content.slice(2), p);
    else fs.writeFileSync(p, content);
  }
}

const top = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'pypages-resolve-')));
const root = path.join(top, 'www');
const outside = path.join(top, 'outside');

build(outside, {
  'secret.py': APP,
  'index.html': '<p>outside</p>',
  'back.py': `->${path.join(root, 'hello.py')}`,
});
build(root, {
  'index.html': '<p>home</p>',
  'hello.py': APP,
  'helper.py': 'X = 1\n',
  'style.css': 'body{}',
  'sub/index.py': APP,
  'sub/other.py': APP,
  'html/index.html': '<p>html</p>',
  'both/index.py': APP,
  'both/index.html': '<p>both</p>',
  'mainonly/main.py': APP,
  'empty/': '',
  'a/b/c.py': APP,
  'lib.py/index.html': '<p>folder named like a script</p>',
  'evil.com/index.html': '<p>not evil</p>',
  'pkg/__init__.py': '',
  'pkg/mod.py': APP,
  'pkg/readme.txt': 'package notes',
  'pkg/sub/index.html': '<p>under a package</p>',
  'pkgweb/__init__.py': '',
  'pkgweb/index.html': '<p>web package</p>',
  'pkgweb/mod.py': APP,
  'pkgweb/inner/__init__.py': '',
  'pkgweb/inner/x.py': APP,
  'pkgmain/__init__.py': '',
  'pkgmain/main.py': APP,
  '__pycache__/x.pyc': 'bytecode',
  '__pycache__/index.html': '<p>cache</p>',
  '__PYCACHE__/x.html': 'cache in caps',
  'mod.pyc': 'bytecode',
  'mod.pyo': 'bytecode',
  'mod.pyw': APP,
  'mod.pyi': 'def f() -> int: ...',
  'mod.pyd': 'binary',
  'mod.pyz': 'zipapp',
  'MOD.PYC': 'bytecode',
  'mod.pyx': 'cdef int x',
  'ext.cpython-311-x86_64-linux-gnu.so': 'elf',
  'ext.abi3.so': 'elf',
  'libfoo.so': 'elf',
  'HELLO.PY': APP,
  'a.Py': APP,
  'hello.py.': APP,
  'hello.py ': APP,
  'hello.py~': APP,
  'hello.py.bak': APP,
  'hello.py.orig': APP,
  '#hello.py#': APP,
  'report.py.html': '<p>rendered source, deliberately published</p>',
  '.secret': 'token',
  '.git/config': '[core]',
  '.hidden/page.py': APP,
  '.hidden/index.html': '<p>hidden</p>',
  'café.py': APP,
  'été/index.html': '<p>summer</p>',
  'dotidx/.index.html': '<p>dot index</p>',
  'dotidx/index.html': '<p>plain index</p>',
  passwd: '->/etc/passwd',
  devnull: '->/dev/null',
  outlink: `->${outside}`,
  'outfile.py': `->${path.join(outside, 'secret.py')}`,
  'inlink.py': '->hello.py',
  inlinkdir: '->sub',
  'cssalias.txt': '->style.css',
  'page.html': '->hello.py',
  'fake.py': '->style.css',
  pkglink: '->pkg',
  'pkgfile.py': '->pkg/mod.py',
  cachelink: '->__pycache__',
  gitlink: '->.git/config',
  'dangling.py': '->nowhere.py',
  loop: '->loop',
  'notdir.py': '->style.css/x.py',
  self: '->.',
  'symidx/index.html': '->../hello.py',
  'symidx2/index.py': '->../hello.py',
});
// A name whose bytes are latin-1 (not UTF-8): 'caf\xe9.py'.
fs.writeFileSync(Buffer.from(`${root}/caf\xe9.py`, 'latin1'), APP);
execFileSync('mkfifo', [path.join(root, 'fifo')]);
execFileSync('mkfifo', [path.join(root, 'fifo.py')]);

const pkgRoot = path.join(top, 'pkgroot');
build(pkgRoot, { '__init__.py': '', 'mod.py': APP });

let socketServer: net.Server;
beforeAll(async () => {
  socketServer = net.createServer();
  await new Promise<void>((done) => socketServer.listen(path.join(root, 'sock'), done));
});
afterAll(async () => {
  await new Promise<void>((done) => socketServer.close(() => done()));
  fs.rmSync(top, { recursive: true, force: true });
});

const DEFAULT = { index: ['index.py', 'index.html'] } as const;

const script = (rel: string, scriptName: string, pathInfo = ''): Target => ({
  kind: 'script',
  file: path.join(root, rel),
  scriptName,
  pathInfo,
});
const stat = (rel: string, urlPath: string): Target => ({ kind: 'static', file: path.join(root, rel), urlPath });
const moved = (location: string): Target => ({ kind: 'redirect', location });
const nf = (why: string) => ({ kind: 'not-found', reason: expect.stringContaining(why) });
// A folder with no index: its real path goes with the 404 (development mode lists it).
const NO_INDEX = {
  kind: 'not-found',
  reason: expect.stringContaining('no index'),
  folder: expect.stringMatching(/^\//),
};
const bad = (why: string) => ({ kind: 'bad-request', reason: expect.stringContaining(why) });

type Row = [name: string, rawPath: string, expected: unknown, query?: string];

const rows: Row[] = [
  // scripts, SCRIPT_NAME and PATH_INFO
  ['script', '/hello.py', script('hello.py', '/hello.py')],
  ['script with path info', '/hello.py/x/y', script('hello.py', '/hello.py', '/x/y')],
  ['script with trailing slash', '/hello.py/', script('hello.py', '/hello.py', '/')],
  ['path info keeps its trailing slash', '/hello.py/x/', script('hello.py', '/hello.py', '/x/')],
  ['path info is decoded', '/hello.py/a%20b', script('hello.py', '/hello.py', '/a b')],
  ['path info as latin-1 bytes', '/hello.py/%C3%A9', script('hello.py', '/hello.py', '/\u00c3\u00a9')],
  ['path info may be non-utf-8 bytes', '/hello.py/%E9', script('hello.py', '/hello.py', '/\u00e9')],
  ['path info may hold a dotfile name', '/hello.py/.well-known/x', script('hello.py', '/hello.py', '/.well-known/x')],
  ['path info may hold python names', '/hello.py/x.pyc', script('hello.py', '/hello.py', '/x.pyc')],
  ['module without application is still a script', '/helper.py', script('helper.py', '/helper.py')],
  ['nested script', '/a/b/c.py', script('a/b/c.py', '/a/b/c.py')],
  ['script in a folder', '/sub/other.py/p', script('sub/other.py', '/sub/other.py', '/p')],
  ['percent-encoded script name', '/%68ello.py', script('hello.py', '/hello.py')],
  ['utf-8 name: lookup utf-8, SCRIPT_NAME latin-1', '/caf%C3%A9.py', script('café.py', '/caf\u00c3\u00a9.py')],
  ['lowercase hex escapes', '/caf%c3%a9.py', script('café.py', '/caf\u00c3\u00a9.py')],
  ['literal latin-1 chars stand for bytes', '/caf\u00c3\u00a9.py', script('café.py', '/caf\u00c3\u00a9.py')],
  // repeated slashes (MergeSlashes)
  ['leading double slash', '//hello.py', script('hello.py', '/hello.py')],
  ['inner repeated slashes', '/a//b///c.py', script('a/b/c.py', '/a/b/c.py')],
  ['repeated slashes in path info', '/hello.py//x//y', script('hello.py', '/hello.py', '/x/y')],
  ['only slashes in path info', '/hello.py//', script('hello.py', '/hello.py', '/')],
  // folders and index
  ['root index.html', '/', stat('index.html', '/index.html')],
  ['root as repeated slashes', '///', stat('index.html', '/index.html')],
  ['index.py is a script', '/sub/', script('sub/index.py', '/sub/index.py')],
  ['index.html is static', '/html/', stat('html/index.html', '/html/index.html')],
  ['index.py wins by default order', '/both/', script('both/index.py', '/both/index.py')],
  ['folder without index', '/empty/', NO_INDEX],
  ['folder with only other files', '/mainonly/', NO_INDEX],
  ['folder named like a script', '/lib.py/', stat('lib.py/index.html', '/lib.py/index.html')],
  ['dot-named index entry is skipped', '/dotidx/', stat('dotidx/index.html', '/dotidx/index.html')],
  ['index symlink changing kind is skipped', '/symidx/', NO_INDEX],
  ['index.py symlink to a script', '/symidx2/', script('hello.py', '/symidx2/index.py')],
  ['index found through repeated slashes', '//sub//', script('sub/index.py', '/sub/index.py')],
  // redirects
  ['folder without slash', '/sub', moved('/sub/')],
  ['redirect keeps the query', '/sub', moved('/sub/?a=1&b=2'), 'a=1&b=2'],
  ['nested folder redirect', '/a/b', moved('/a/b/')],
  ['no open redirect from //host', '//evil.com', moved('/evil.com/')],
  ['no open redirect from ///host', '///evil.com', moved('/evil.com/?x=1'), 'x=1'],
  ['redirect merges inner slashes', '/a//b', moved('/a/b/')],
  ['redirect re-encodes the path', '/%61/b', moved('/a/b/')],
  ['redirect of folder named like a script', '/lib.py', moved('/lib.py/')],
  ['redirect encodes query controls and #', '/sub', moved('/sub/?a=%20%0A%23'), 'a= \n#'],
  ['redirect of a utf-8 folder name stays encoded', '/%C3%A9t%C3%A9', moved('/%C3%A9t%C3%A9/')],
  ['utf-8 folder index', '/%C3%A9t%C3%A9/', stat('été/index.html', '/été/index.html')],
  ['denied folder is not redirected', '/pkg', nf('package folder')],
  ['missing folder is not redirected', '/nope', nf('missing')],
  // static
  ['static file', '/style.css', stat('style.css', '/style.css')],
  ['static with slash after it', '/style.css/', nf('static file has no sub-path')],
  ['static with more segments', '/style.css/x', nf('static file has no sub-path')],
  ['static urlPath is decoded', '/%73tyle.css', stat('style.css', '/style.css')],
  ['.py-looking static html is fine', '/report.py.html', stat('report.py.html', '/report.py.html')],
  ['so without python tag is static', '/libfoo.so', stat('libfoo.so', '/libfoo.so')],
  // python artefacts
  ['.pyc', '/mod.pyc', nf('python artefact')],
  ['.pyo', '/mod.pyo', nf('python artefact')],
  ['.pyw', '/mod.pyw', nf('python artefact')],
  ['.pyi', '/mod.pyi', nf('python artefact')],
  ['.pyd', '/mod.pyd', nf('python artefact')],
  ['.pyz', '/mod.pyz', nf('python artefact')],
  ['.PYC in caps', '/MOD.PYC', nf('python artefact')],
  ['.pyx cython source', '/mod.pyx', nf('python artefact')],
  ['cpython extension module', '/ext.cpython-311-x86_64-linux-gnu.so', nf('python artefact')],
  ['abi3 extension module', '/ext.abi3.so', nf('python artefact')],
  ['missing .pyc is still denied by name', '/nothing.pyc', nf('python artefact')],
  // case of .py
  ['HELLO.PY exists but is never served', '/HELLO.PY', nf('python name in another case')],
  ['a.Py exists but is never served', '/a.Py', nf('python name in another case')],
  ['.PY of an existing lowercase script', '/hello.PY', nf('python name in another case')],
  ['.py in another case as path info is fine', '/hello.py/X.PY', script('hello.py', '/hello.py', '/X.PY')],
  // trailing dot / whitespace
  ['trailing dot', '/hello.py.', nf('trailing dot or space')],
  ['trailing encoded space', '/hello.py%20', nf('trailing dot or space')],
  ['trailing literal space', '/hello.py ', nf('trailing dot or space')],
  ['trailing no-break space', '/hello.py%C2%A0', nf('trailing dot or space')],
  ['trailing dot on a folder', '/sub./', nf('trailing dot or space')],
  // editor backups
  ['backup with ~', '/hello.py~', nf('editor backup')],
  ['backup .bak', '/hello.py.bak', nf('editor backup')],
  ['backup .orig', '/hello.py.orig', nf('editor backup')],
  ['emacs autosave', '/%23hello.py%23', nf('editor backup')],
  // __pycache__, __init__, packages
  ['__pycache__ content', '/__pycache__/x.pyc', nf('bytecode cache')],
  ['__pycache__ index', '/__pycache__/', nf('bytecode cache')],
  ['__pycache__ folder', '/__pycache__', nf('bytecode cache')],
  ['__PYCACHE__ in caps', '/__PYCACHE__/x.html', nf('bytecode cache')],
  ['__init__.py (inside its package)', '/pkg/__init__.py', nf('package folder')],
  ['__init__.py with path info', '/pkgweb/__init__.py/x', nf('package marker')],
  ['missing __init__.py is denied by name', '/sub/__init__.py', nf('package marker')],
  ['__init__.py of a web package', '/pkgweb/__init__.py', nf('package marker')],
  ['__INIT__.py in another case', '/pkgweb/__INIT__.py', nf('package marker')],
  ['module in a package', '/pkg/mod.py', nf('package folder')],
  ['static in a package', '/pkg/readme.txt', nf('package folder')],
  ['package folder', '/pkg/', nf('package folder')],
  ['indexed folder under a package', '/pkg/sub/', nf('package folder')],
  ['package with index is a web folder', '/pkgweb/', stat('pkgweb/index.html', '/pkgweb/index.html')],
  ['script in a web package', '/pkgweb/mod.py', script('pkgweb/mod.py', '/pkgweb/mod.py')],
  ['package nested in a web package', '/pkgweb/inner/x.py', nf('package folder')],
  ['package without default index', '/pkgmain/', nf('package folder')],
  ['symlink into a package', '/pkglink/mod.py', nf('package folder')],
  ['file symlink into a package', '/pkgfile.py', nf('package folder')],
  ['symlink to __pycache__', '/cachelink/index.html', nf('bytecode cache')],
  // dotfiles and dot segments
  ['dotfile', '/.secret', nf('dotfile')],
  ['dot folder', '/.git/config', nf('dotfile')],
  ['dot folder index', '/.hidden/', nf('dotfile')],
  ['script in dot folder', '/.hidden/page.py', nf('dotfile')],
  ['encoded dotfile', '/%2esecret', nf('dotfile')],
  ['symlink to a dotfile', '/gitlink', nf('dotfile')],
  ['dot segment', '/./hello.py', nf('dot segment')],
  ['dot-dot segment', '/../hello.py', nf('dot segment')],
  ['dot-dot inside', '/sub/../hello.py', nf('dot segment')],
  ['encoded dot-dot', '/%2e%2e/etc/passwd', nf('dot segment')],
  ['half-encoded dot-dot', '/.%2e/etc/passwd', nf('dot segment')],
  ['upper-case encoded dot-dot', '/%2E%2E/etc/passwd', nf('dot segment')],
  ['dot-dot in path info', '/hello.py/../secret', nf('dot segment')],
  ['dot in path info', '/hello.py/./x', nf('dot segment')],
  ['trailing dot-dot', '/sub/..', nf('dot segment')],
  // slashes and backslashes
  ['encoded slash', '/sub%2Findex.py', nf('encoded slash')],
  ['encoded slash lowercase', '/sub%2findex.py', nf('encoded slash')],
  ['encoded slash in path info', '/hello.py/a%2Fb', nf('encoded slash')],
  ['encoded backslash', '/sub%5Cindex.py', nf('encoded slash')],
  ['literal backslash', '/sub\\index.py', nf('encoded slash')],
  ['backslash dot-dot', '/..\\hello.py', nf('encoded slash')],
  ['encoded slash open redirect attempt', '/%2Fevil.com', nf('encoded slash')],
  ['backslash open redirect attempt', '/\\evil.com', nf('encoded slash')],
  // symlinks
  ['symlink to /etc/passwd', '/passwd', nf('outside root')],
  ['symlink to /dev/null', '/devnull', nf('outside root')],
  ['symlinked folder outside', '/outlink/secret.py', nf('outside root')],
  ['symlinked folder outside, index', '/outlink/', nf('outside root')],
  ['symlinked folder outside, no slash', '/outlink', nf('outside root')],
  ['escape and come back', '/outlink/back.py', nf('outside root')],
  ['file symlink outside', '/outfile.py', nf('outside root')],
  ['script symlink inside', '/inlink.py/x', script('hello.py', '/inlink.py', '/x')],
  ['folder symlink inside', '/inlinkdir/other.py', script('sub/other.py', '/inlinkdir/other.py')],
  ['folder symlink inside, index', '/inlinkdir/', script('sub/index.py', '/inlinkdir/index.py')],
  ['static symlink inside', '/cssalias.txt', stat('style.css', '/cssalias.txt')],
  ['static name onto a script', '/page.html', nf('symlink changes file kind')],
  ['script name onto a static file', '/fake.py', nf('symlink changes file kind')],
  ['symlink to the root itself', '/self/hello.py', script('hello.py', '/self/hello.py')],
  ['dangling symlink', '/dangling.py', nf('missing')],
  ['symlink loop (ELOOP)', '/loop', nf('missing')],
  // non-regular files and fs errors
  ['fifo', '/fifo', nf('not a regular file')],
  ['fifo named like a script', '/fifo.py', nf('not a regular file')],
  ['unix socket', '/sock', nf('not a regular file')],
  ['missing file', '/nope.py', nf('missing')],
  ['missing in missing folder', '/nope/x.py', nf('missing')],
  ['script name below a static file', '/style.css/x.py', nf('static file has no sub-path')],
  ['ENOTDIR through a symlink', '/notdir.py', nf('missing')],
  ['ENAMETOOLONG', `/${'a'.repeat(300)}.py`, nf('missing')],
  ['very long path', `/${'a/'.repeat(3000)}x.py`, nf('missing')],
  // UTF-8
  ['latin-1 file name is not utf-8', '/caf%E9.py', nf('not utf-8')],
  ['overlong utf-8 slash', '/%C0%AFetc/passwd', nf('not utf-8')],
  ['utf-8 surrogate', '/%ED%A0%80.py', nf('not utf-8')],
  ['BOM is kept, not stripped', '/%EF%BB%BFhello.py', nf('missing')],
  // bad requests
  ['lone %', '/hello%', bad('malformed percent-encoding')],
  ['short %4', '/hello%4', bad('malformed percent-encoding')],
  ['non-hex %zz', '/%zzhello.py', bad('malformed percent-encoding')],
  ['bad escape in path info', '/hello.py/%g0', bad('malformed percent-encoding')],
  ['bad escape wins over not-found', '/.secret/%', bad('malformed percent-encoding')],
  ['encoded NUL', '/hello.py%00.html', bad('nul byte')],
  ['encoded NUL in path info', '/hello.py/%00', bad('nul byte')],
  ['literal NUL', '/hello.py\u0000', bad('nul byte')],
  ['literal newline', '/hello.py\n', bad('control character')],
  ['literal tab', '/a\tb', bad('control character')],
  ['literal DEL', '/a\u007f', bad('control character')],
  ['encoded newline', '/hello.py/%0d%0aSet-Cookie:x', bad('control character')],
  ['not /-rooted', 'hello.py', bad('not /-rooted')],
  ['empty path', '', bad('not /-rooted')],
  ['asterisk form', '*', bad('not /-rooted')],
  ['absolute-form URL', 'http://evil.com/', bad('not /-rooted')],
  ['wider than latin-1', '/\u65e5\u672c.py', bad('non-latin-1')],
];

describe('resolve: default index', () => {
  it.each(rows)('%s: %j', async (_name, rawPath, expected, query = '') => {
    expect(await resolve(root, rawPath, query, DEFAULT)).toEqual(expected);
  });
});

describe('resolve: index list', () => {
  const cases: [string, readonly string[], string, unknown][] = [
    ['custom main.py', ['main.py'], '/mainonly/', script('mainonly/main.py', '/mainonly/main.py')],
    ['index.html first', ['index.html', 'index.py'], '/both/', stat('both/index.html', '/both/index.html')],
    ['falls through to the next entry', ['index.html', 'index.py'], '/sub/', script('sub/index.py', '/sub/index.py')],
    ['custom index unlocks a package', ['main.py'], '/pkgmain/', script('pkgmain/main.py', '/pkgmain/main.py')],
    [
      'custom index: package module reachable',
      ['main.py'],
      '/pkgmain/main.py',
      script('pkgmain/main.py', '/pkgmain/main.py'),
    ],
    ['custom index relocks a default web package', ['main.py'], '/pkgweb/mod.py', nf('package folder')],
    ['__init__.py as index never matches', ['__init__.py'], '/pkg/', nf('package folder')],
    [
      '__init__.py as index does not unlock',
      ['__init__.py', 'index.html'],
      '/pkgweb/mod.py',
      script('pkgweb/mod.py', '/pkgweb/mod.py'),
    ],
    ['dot index never matches', ['.index.html'], '/dotidx/', NO_INDEX],
    ['.pyc index never matches', ['x.pyc'], '/__pycache__/', nf('bytecode cache')],
    ['index entry with a slash never matches', ['sub/index.py'], '/', NO_INDEX],
    ['empty index list', [], '/', NO_INDEX],
    ['empty index entry', [''], '/', NO_INDEX],
    ['index in caps never matches', ['INDEX.PY', 'index.html'], '/both/', stat('both/index.html', '/both/index.html')],
  ];
  it.each(cases)('%s', async (_name, index, rawPath, expected) => {
    expect(await resolve(root, rawPath, '', { index })).toEqual(expected);
  });

  it('defaults to index.py then index.html', async () => {
    expect(await resolve(root, '/both/', '')).toEqual(script('both/index.py', '/both/index.py'));
  });

  it('names the real folder that has no index', async () => {
    expect(await resolve(root, '/empty/', '')).toMatchObject({ kind: 'not-found', folder: path.join(root, 'empty') });
    expect(await resolve(root, '/', '', { index: [] })).toMatchObject({ kind: 'not-found', folder: root });
  });
});

describe('resolve: document root', () => {
  it('the root itself is never treated as a package', async () => {
    expect(await resolve(pkgRoot, '/mod.py', '', DEFAULT)).toEqual({
      kind: 'script',
      file: path.join(pkgRoot, 'mod.py'),
      scriptName: '/mod.py',
      pathInfo: '',
    });
  });

  it('works when the root is /', async () => {
    expect(await resolve('/', '/etc/passwd', '', DEFAULT)).toMatchObject({ kind: 'static', file: '/etc/passwd' });
  });

  it('a sibling folder sharing the root as prefix is outside', async () => {
    // Root "<top>/www" must not admit "<top>/www-other" through a symlink.
    fs.mkdirSync(path.join(top, 'www-other'), { recursive: true });
    fs.writeFileSync(path.join(top, 'www-other', 'x.py'), APP);
    fs.symlinkSync(path.join(top, 'www-other'), path.join(root, 'sibling'));
    expect(await resolve(root, '/sibling/x.py', '', DEFAULT)).toEqual(nf('outside root'));
  });
});

describe('resolve: invariants', () => {
  // A tiny deterministic generator, so failures replay.
  function* randomPaths(count: number): Generator<string> {
    const alphabet = [
      '/',
      '//',
      '.',
      '..',
      '%',
      '%2',
      '%2e',
      '%2F',
      '%5c',
      '\\',
      '%00',
      '%C3%A9',
      '%E9',
      'a',
      'hello.py',
      'sub',
      'pkg',
      '__init__.py',
      '__pycache__',
      '.git',
      'outlink',
      'self',
      ' ',
      '\u00e9',
      '\u0000',
      '\n',
      '?',
      '#',
      '\u4e00',
    ];
    let seed = 42;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let n = 0; n < count; n++) {
      let s = next() % 4 === 0 ? '' : '/';
      const len = next() % 8;
      for (let i = 0; i < len; i++) s += alphabet[next() % alphabet.length];
      yield s;
    }
  }

  it('never throws and never leaves the root', async () => {
    for (const rawPath of randomPaths(2000)) {
      const t = await resolve(root, rawPath, 'q=1', DEFAULT);
      expect(['script', 'static', 'redirect', 'not-found', 'bad-request']).toContain(t.kind);
      if (t.kind === 'script' || t.kind === 'static') expect(t.file.startsWith(root + path.sep)).toBe(true);
      if (t.kind === 'redirect') expect(t.location).toMatch(/^\/[^/\\]/);
      if (t.kind === 'static') expect(t.file).not.toMatch(/\.py[a-z]?$/i);
    }
  });

  it('fails closed on a root that does not exist', async () => {
    expect(await resolve(path.join(top, 'missing'), '/hello.py', '', DEFAULT)).toEqual(nf('missing'));
  });
});
