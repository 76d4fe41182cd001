import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADDRESSES,
  addressList,
  boolean,
  CONFIG_FILE,
  configFile,
  describe as describeValue,
  DIRECTORY,
  directory,
  ENV,
  envMap,
  FILE_NAMES,
  fileNameList,
  integer,
  InvalidValue,
  MODULES,
  moduleList,
  nonEmptyString,
  OPTIONAL_FILE,
  OPTIONAL_FOLDER,
  optionalFile,
  optionalFolder,
  oneOf,
  PATHS,
  pathList,
  PYTHON,
  pythonSpec,
  SCRIPTS,
  scriptList,
  seconds,
  size,
  URL_PATH,
  urlPath,
  type ValueContext,
} from '../../../lib/config/setting-parsers.js';

let base: string;
let ctx: ValueContext;

beforeAll(() => {
  base = realpathSync(mkdtempSync(path.join(tmpdir(), 'pypages-parsers-')));
  mkdirSync(path.join(base, 'dir/sub'), { recursive: true });
  writeFileSync(path.join(base, 'file.txt'), 'x');
  writeFileSync(path.join(base, 'dir/settings.yaml'), 'port: 1\n');
  symlinkSync(path.join(base, 'dir'), path.join(base, 'link'));
  mkdirSync(path.join(base, 'venv'));
  ctx = { from: 'yaml', base };
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** The InvalidValue thrown by fn; fails the test if it returns or throws anything else. */
function invalid(fn: () => unknown): InvalidValue {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidValue);
    return err as InvalidValue;
  }
  throw new Error('expected an InvalidValue');
}

/** Asserts `parse(raw)` is rejected with exactly `allowed`, reporting `got` (raw by default). */
function rejects(parse: (raw: unknown) => unknown, raw: unknown, allowed: string, got: unknown = raw): void {
  const err = invalid(() => parse(raw));
  expect(err.allowed).toBe(allowed);
  expect(err.got).toEqual(got);
  expect(err.message).toBe(`must be ${allowed} (got ${describeValue(got)})`);
}

describe('InvalidValue and describe', () => {
  it('says what is allowed and what was given', () => {
    const err = new InvalidValue('a thing', 'x');
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('InvalidValue');
    expect(err.message).toBe('must be a thing (got "x")');
    expect(err.allowed).toBe('a thing');
    expect(err.got).toBe('x');
  });

  it.each<[unknown, string]>([
    [undefined, 'nothing'],
    [null, 'null'],
    ['', '""'],
    ['a "q"', '"a \\"q\\""'],
    [5, '5'],
    [1.5, '1.5'],
    [-0.5, '-0.5'],
    [Infinity, 'Infinity'],
    [-Infinity, '-Infinity'],
    [NaN, 'NaN'],
    [true, 'true'],
    [[1, 'a'], '[1,"a"]'],
    [{ a: 1 }, '{"a":1}'],
    [Symbol.for('s'), 'Symbol(s)'],
  ])('renders %s as %s', (value, text) => {
    expect(describeValue(value)).toBe(text);
  });

  it('shortens long values to 80 characters', () => {
    const text = describeValue('x'.repeat(200));
    expect(text).toHaveLength(80);
    expect(text).toBe(`"${'x'.repeat(76)}...`);
    expect(describeValue('x'.repeat(78))).toBe(`"${'x'.repeat(78)}"`);
  });
});

describe('integer', () => {
  const port = integer(0, 65535);
  const allowed = 'an integer from 0 to 65535';

  it.each<[unknown, number]>([
    [0, 0],
    [65535, 65535],
    [80, 80],
    ['80', 80],
    [' 80 ', 80],
    ['080', 80],
    ['0', 0],
    [80.0, 80],
  ])('accepts %j as %d', (raw, value) => {
    expect(port(raw)).toBe(value);
  });

  it.each<unknown>([
    -1,
    65536,
    80.5,
    NaN,
    Infinity,
    '',
    ' ',
    '-1',
    '+1',
    '80.5',
    '80.0',
    '1e3',
    '0x50',
    'abc',
    '8 0',
    true,
    null,
    undefined,
    [80],
    { port: 80 },
  ])('rejects %j', (raw) => {
    rejects(port, raw, allowed);
  });

  it('names its own bounds', () => {
    rejects(integer(1, 1e9), 0, 'an integer from 1 to 1000000000');
    expect(integer(1, 1e9)('1000000000')).toBe(1e9);
  });
});

describe('nonEmptyString', () => {
  it('trims', () => {
    expect(nonEmptyString(' a ')).toBe('a');
    expect(nonEmptyString('::1')).toBe('::1');
  });

  it.each<unknown>(['', '   ', '\t\n', 5, null, undefined, ['a'], true])('rejects %j', (raw) => {
    rejects(nonEmptyString, raw, 'a non-empty string');
  });
});

describe('boolean', () => {
  it('accepts true and false only', () => {
    expect(boolean(true)).toBe(true);
    expect(boolean(false)).toBe(false);
    for (const raw of ['true', 'false', 'yes', 1, 0, null, undefined, '']) rejects(boolean, raw, 'true or false');
  });
});

describe('directory', () => {
  it('resolves against ctx.base and returns the real path', () => {
    expect(directory('dir', ctx)).toBe(path.join(base, 'dir'));
    expect(directory('dir/sub/', ctx)).toBe(path.join(base, 'dir/sub'));
    expect(directory('link', ctx)).toBe(path.join(base, 'dir'));
    expect(directory('.', ctx)).toBe(base);
    expect(directory(path.join(base, 'dir'), { from: 'cli', base: '/' })).toBe(path.join(base, 'dir'));
    expect(directory('sub', { from: 'cli', base: path.join(base, 'dir') })).toBe(path.join(base, 'dir/sub'));
  });

  it('rejects a missing folder or a file, reporting the full path', () => {
    rejects((raw) => directory(raw, ctx), 'nope', DIRECTORY, path.join(base, 'nope'));
    rejects((raw) => directory(raw, ctx), 'file.txt', DIRECTORY, path.join(base, 'file.txt'));
  });

  it.each<unknown>(['', 5, null, undefined, ['dir']])('rejects %j as given', (raw) => {
    rejects((r) => directory(r, ctx), raw, DIRECTORY);
  });
});

describe('pythonSpec', () => {
  const parse = (raw: unknown) => pythonSpec(raw, ctx);

  it('keeps "" (auto), also when blank', () => {
    expect(parse('')).toBe('');
    expect(parse('   ')).toBe('');
  });

  it('leaves a command alone', () => {
    expect(parse('python3')).toBe('python3');
    expect(parse(' python3.12 ')).toBe('python3.12');
  });

  it('resolves anything with a slash, or a name that exists in base, against base', () => {
    expect(parse('./bin/python3')).toBe(path.join(base, 'bin/python3'));
    expect(parse('env/bin/python')).toBe(path.join(base, 'env/bin/python'));
    expect(parse('/usr/bin/python3')).toBe('/usr/bin/python3');
    expect(parse('venv')).toBe(path.join(base, 'venv'));
    expect(parse('..\\py')).toBe(path.resolve(base, '..\\py'));
  });

  it.each<unknown>([5, null, undefined, ['python3'], true])('rejects %j', (raw) => {
    rejects(parse, raw, PYTHON);
  });
});

describe('fileNameList', () => {
  it.each<[unknown, string[]]>([
    ['index.py', ['index.py']],
    [' a.py , b.html ,', ['a.py', 'b.html']],
    ['a.py,a.py,b.py', ['a.py', 'b.py']],
    [
      ['main.py', ' default.htm '],
      ['main.py', 'default.htm'],
    ],
    [['a.py', ''], ['a.py']],
    ['index', ['index']],
  ])('accepts %j', (raw, names) => {
    const out = fileNameList(raw);
    expect(out).toEqual(names);
    expect(Object.isFrozen(out)).toBe(true);
  });

  it.each<unknown>([
    '',
    ' , ',
    [],
    [''],
    'a/b.py',
    'a\\b.py',
    '.hidden',
    'a.py,.env',
    [1],
    ['a.py', null],
    'a\0b',
    5,
    null,
    { a: 1 },
  ])('rejects %j', (raw) => {
    rejects(fileNameList, raw, FILE_NAMES);
  });
});

describe('configFile', () => {
  it('resolves an existing file against base (not its real path)', () => {
    expect(configFile('dir/settings.yaml', ctx)).toBe(path.join(base, 'dir/settings.yaml'));
    expect(configFile('link/settings.yaml', ctx)).toBe(path.join(base, 'link/settings.yaml'));
  });

  it('rejects a missing file or a folder with the full path, and non-strings as given', () => {
    rejects((raw) => configFile(raw, ctx), 'missing.yaml', CONFIG_FILE, path.join(base, 'missing.yaml'));
    rejects((raw) => configFile(raw, ctx), 'dir', CONFIG_FILE, path.join(base, 'dir'));
    for (const raw of ['', 5, null, undefined]) rejects((r) => configFile(r, ctx), raw, CONFIG_FILE);
  });
});

describe('oneOf', () => {
  const grouping = oneOf('per-script', 'per-folder', 'global');
  const venv = oneOf('auto', 'off');

  it('accepts its words, trimmed', () => {
    expect(grouping('per-folder')).toBe('per-folder');
    expect(grouping(' global ')).toBe('global');
    expect(venv('off')).toBe('off');
  });

  it('lists the words with "or" before the last', () => {
    rejects(grouping, 'per-file', '"per-script", "per-folder" or "global"');
    rejects(venv, 'on', '"auto" or "off"');
    rejects(oneOf('only'), 'x', '"only"');
  });

  it.each<unknown>(['', 'Global', 'PER-SCRIPT', false, 0, null, undefined, ['global']])('rejects %j', (raw) => {
    rejects(grouping, raw, '"per-script", "per-folder" or "global"');
  });
});

describe('seconds', () => {
  const timeout = seconds(0, 86400);
  const allowed = 'a number of seconds from 0 to 86400';

  it.each<[unknown, number]>([
    [0, 0],
    [86400, 86400],
    [0.5, 0.5],
    [300, 300],
    ['300', 300],
    [' 2.5 ', 2.5],
    ['0.001', 0.001],
    ['0', 0],
    ['86400.0', 86400],
  ])('accepts %j as %d', (raw, value) => {
    expect(timeout(raw)).toBe(value);
  });

  it.each<unknown>([
    -1,
    -0.5,
    86400.5,
    NaN,
    Infinity,
    -Infinity,
    '',
    '-1',
    '1e3',
    '5s',
    '1:00',
    'abc',
    '1.',
    true,
    null,
    undefined,
    [1],
  ])('rejects %j', (raw) => {
    rejects(timeout, raw, allowed);
  });

  it('honours a fractional minimum', () => {
    const queue = seconds(0.01, 3600);
    expect(queue(0.01)).toBe(0.01);
    expect(queue('0.01')).toBe(0.01);
    rejects(queue, 0, 'a number of seconds from 0.01 to 3600');
    rejects(queue, '0.001', 'a number of seconds from 0.01 to 3600');
    rejects(queue, 3601, 'a number of seconds from 0.01 to 3600');
  });
});

describe('size', () => {
  const body = size(0, 1024 ** 4);
  const allowed = 'a size in bytes from 0 to 1099511627776 (suffix K, M or G allowed)';

  it.each<[unknown, number]>([
    [0, 0],
    [1048576, 1048576],
    ['1048576', 1048576],
    ['0', 0],
    ['64K', 64 * 1024],
    ['64k', 64 * 1024],
    ['64KB', 64 * 1024],
    ['64KiB', 64 * 1024],
    ['64kib', 64 * 1024],
    ['10M', 10 * 1024 ** 2],
    ['10 MB', 10 * 1024 ** 2],
    ['1G', 1024 ** 3],
    [' 1g ', 1024 ** 3],
    ['1024G', 1024 ** 4],
    ['1.5K', 1536],
    ['1.5G', 1.5 * 1024 ** 3],
    ['0.1K', 102],
    ['100B', 100],
    ['100b', 100],
    [1e3, 1000],
  ])('accepts %j as %d bytes', (raw, value) => {
    expect(body(raw)).toBe(value);
  });

  it.each<unknown>([
    -1,
    1.5,
    NaN,
    Infinity,
    1024 ** 4 + 1,
    '',
    'K',
    '1T',
    '1025G',
    '-1K',
    '1.5',
    '0.5',
    '10 X',
    '10KK',
    '5i',
    '5ib',
    '1e3',
    '1,000',
    true,
    null,
    undefined,
    [1],
  ])('rejects %j', (raw) => {
    rejects(body, raw, allowed);
  });

  it('honours its bounds after converting units', () => {
    const header = size(1024, 1024 ** 2);
    expect(header('1K')).toBe(1024);
    expect(header('1M')).toBe(1024 ** 2);
    expect(header(16384)).toBe(16384);
    rejects(header, '1023', 'a size in bytes from 1024 to 1048576 (suffix K, M or G allowed)');
    rejects(header, '1.1M', 'a size in bytes from 1024 to 1048576 (suffix K, M or G allowed)');
    rejects(header, 0, 'a size in bytes from 1024 to 1048576 (suffix K, M or G allowed)');
  });
});

describe('addressList', () => {
  it.each<[unknown, string[]]>([
    ['127.0.0.1', ['127.0.0.1']],
    ['127.0.0.0/8,::1', ['127.0.0.0/8', '::1']],
    [' 10.0.0.0/8 , 192.168.1.0/24 ,', ['10.0.0.0/8', '192.168.1.0/24']],
    [
      ['::1', 'fe80::/10', '2001:db8::/32'],
      ['::1', 'fe80::/10', '2001:db8::/32'],
    ],
    [
      ['0.0.0.0/0', '1.2.3.4/32', '::/0', '::/128'],
      ['0.0.0.0/0', '1.2.3.4/32', '::/0', '::/128'],
    ],
    [
      ['::ffff:10.0.0.1', '::ffff:10.0.0.0/104'],
      ['::ffff:10.0.0.1', '::ffff:10.0.0.0/104'],
    ],
    ['', []],
    [[], []],
  ])('accepts %j', (raw, list) => {
    const out = addressList(raw);
    expect(out).toEqual(list);
    expect(Object.isFrozen(out)).toBe(true);
  });

  it.each<unknown>([
    'localhost',
    '1.2.3',
    '256.0.0.1',
    '1.2.3.4/33',
    '::1/129',
    '1.2.3.4/',
    '1.2.3.4/-1',
    '1.2.3.4/8/9',
    '1.2.3.4/x',
    '/8',
    '10.0.0.0/ 8',
    '1.2.3.4 5.6.7.8',
    ':::1',
    '10.0.0.1,nope',
    ['10.0.0.1', 5],
    [null],
    5,
    true,
    null,
    undefined,
    { a: '1.2.3.4' },
  ])('rejects %j', (raw) => {
    rejects(addressList, raw, ADDRESSES);
  });
});

describe('moduleList', () => {
  it.each<[unknown, string[]]>([
    ['flask', ['flask']],
    ['flask, django.conf ,numpy.linalg', ['flask', 'django.conf', 'numpy.linalg']],
    [
      ['_private', 'a1.b_2', 'Mixed.Case'],
      ['_private', 'a1.b_2', 'Mixed.Case'],
    ],
    ['', []],
    [[], []],
  ])('accepts %j', (raw, list) => {
    const out = moduleList(raw);
    expect(out).toEqual(list);
    expect(Object.isFrozen(out)).toBe(true);
  });

  it.each<unknown>(['1flask', 'flask-login', 'a..b', '.a', 'a.', 'a b', 'a/b', 'a.1b', [5], 5, null, { flask: true }])(
    'rejects %j',
    (raw) => {
      rejects(moduleList, raw, MODULES);
    },
  );
});

describe('pathList', () => {
  it('resolves each folder against ctx.base, keeping absolute ones', () => {
    const out = pathList('lib, /opt/shared ,../up,', ctx);
    expect(out).toEqual([path.join(base, 'lib'), '/opt/shared', path.resolve(base, '../up')]);
    expect(Object.isFrozen(out)).toBe(true);
    expect(pathList(['lib', 'dir/sub/'], { from: 'cli', base: '/srv' })).toEqual(['/srv/lib', '/srv/dir/sub']);
  });

  it('accepts an empty list', () => {
    expect(pathList('', ctx)).toEqual([]);
    expect(pathList([], ctx)).toEqual([]);
  });

  it.each<unknown>([5, null, undefined, true, [1], ['a', null], { a: 'b' }])('rejects %j', (raw) => {
    rejects((r) => pathList(r, ctx), raw, PATHS);
  });
});

describe('scriptList', () => {
  it.each<[unknown, string[]]>([
    ['app.py', ['app.py']],
    ['app.py, blog/index.py', ['app.py', 'blog/index.py']],
    [
      ['./app.py', 'blog\\index.py', '.\\x.py'],
      ['app.py', 'blog/index.py', 'x.py'],
    ],
    ['', []],
    [[], []],
  ])('accepts %j', (raw, list) => {
    const out = scriptList(raw);
    expect(out).toEqual(list);
    expect(Object.isFrozen(out)).toBe(true);
  });

  it.each<unknown>([
    '/abs.py',
    '../x.py',
    'a/../../x.py',
    'a\\..\\x.py',
    'app.txt',
    'app',
    'app.py,notes.md',
    [5],
    5,
    null,
    { 'app.py': 1 },
  ])('rejects %j', (raw) => {
    rejects(scriptList, raw, SCRIPTS);
  });
});

describe('envMap', () => {
  it('turns scalars into strings and freezes', () => {
    const out = envMap({ APP_MODE: 'prod', WORKERS: 4, RATIO: 0.5, DEBUG: false, _X1: '' });
    expect(out).toEqual({ APP_MODE: 'prod', WORKERS: '4', RATIO: '0.5', DEBUG: 'false', _X1: '' });
    expect(Object.isFrozen(out)).toBe(true);
    expect(envMap({})).toEqual({});
  });

  it.each<unknown>([
    { '1A': 'x' },
    { 'A-B': 'x' },
    { 'A B': 'x' },
    { '': 'x' },
    { A: null },
    { A: ['x'] },
    { A: { B: 'c' } },
    { A: undefined },
    ['A=1'],
    'A=1',
    5,
    null,
    undefined,
    true,
  ])('rejects %j', (raw) => {
    rejects(envMap, raw, ENV);
  });
});

describe('urlPath', () => {
  it.each(['', '/', '/-/status', '/-/health', '/a/b.c', '/%7Euser'])('accepts %j', (raw) => {
    expect(urlPath(raw)).toBe(raw);
  });

  it.each<unknown>(['status', ' /x', '/a b', '/x?y', '/x#y', 'http://x/', '/\t', 5, null, undefined, ['/x']])(
    'rejects %j',
    (raw) => {
      rejects(urlPath, raw, URL_PATH);
    },
  );
});

describe('optionalFolder', () => {
  const parse = (raw: unknown) => optionalFolder(raw, ctx);

  it('keeps "" (the script\'s own folder), also when blank', () => {
    expect(parse('')).toBe('');
    expect(parse('  ')).toBe('');
  });

  it('resolves an existing folder against ctx.base', () => {
    expect(parse('dir')).toBe(path.join(base, 'dir'));
    expect(parse(' dir/sub ')).toBe(path.join(base, 'dir/sub'));
    expect(parse(path.join(base, 'dir'))).toBe(path.join(base, 'dir'));
    expect(optionalFolder('sub', { from: 'cli', base: path.join(base, 'dir') })).toBe(path.join(base, 'dir/sub'));
  });

  it('rejects a missing folder or a file with the full path, and non-strings as given', () => {
    rejects(parse, 'nope', OPTIONAL_FOLDER, path.join(base, 'nope'));
    rejects(parse, 'file.txt', OPTIONAL_FOLDER, path.join(base, 'file.txt'));
    for (const raw of [5, null, undefined, ['dir']]) rejects(parse, raw, OPTIONAL_FOLDER);
  });
});

describe('optionalFile', () => {
  const parse = (raw: unknown) => optionalFile(raw, ctx);

  it('keeps "" (none), also when blank', () => {
    expect(parse('')).toBe('');
    expect(parse(' ')).toBe('');
  });

  it('resolves an existing file against ctx.base', () => {
    expect(parse('file.txt')).toBe(path.join(base, 'file.txt'));
    expect(parse(' dir/settings.yaml ')).toBe(path.join(base, 'dir/settings.yaml'));
    expect(optionalFile('settings.yaml', { from: 'cli', base: path.join(base, 'dir') })).toBe(
      path.join(base, 'dir/settings.yaml'),
    );
  });

  it('rejects a missing file or a folder with the full path, and non-strings as given', () => {
    rejects(parse, 'missing.pem', OPTIONAL_FILE, path.join(base, 'missing.pem'));
    rejects(parse, 'dir', OPTIONAL_FILE, path.join(base, 'dir'));
    for (const raw of [5, null, undefined, ['file.txt']]) rejects(parse, raw, OPTIONAL_FILE);
  });
});
