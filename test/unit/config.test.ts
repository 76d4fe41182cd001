import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, makeConfig, parseCli, type Config } from '../../lib/config.js';
import { helpText, markdownTable } from '../../lib/help.js';
import { SETTINGS, SETTING_LIST, VALUE_NAMES, YAML_SETTINGS } from '../../lib/settings.js';

const repo = path.resolve(import.meta.dirname, '../..');
let cwd: string;

beforeEach(() => {
  cwd = realpathSync(mkdtempSync(path.join(tmpdir(), 'pypages-config-')));
  mkdirSync(path.join(cwd, 'www'));
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

function write(rel: string, text: string): string {
  const file = path.join(cwd, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

function run(argv: string[]): Config {
  const result = parseCli(argv, cwd);
  if (result.kind !== 'run') throw new Error(`expected run, got ${result.kind}`);
  return result.config;
}

function fail(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

describe('settings table', () => {
  it('derives flags and YAML keys from names (kebab-case)', () => {
    for (const s of SETTING_LIST) {
      if (s.positional) expect(s.flag).toMatch(/^[A-Z]+$/);
      else expect(s.flag).toBe(`--${kebab(s.name)}`);
      if (s.yaml !== null) expect(s.yaml).toBe(kebab(s.name));
      expect(s.help.length).toBeGreaterThan(10);
      expect(s.allowed.length).toBeGreaterThan(3);
    }
  });

  it('has a YAML key for every Config value and only config is CLI-only', () => {
    expect([...YAML_SETTINGS.values()].map((s) => s.name)).toEqual(VALUE_NAMES);
    expect(SETTING_LIST.filter((s) => s.yaml === null).map((s) => s.name)).toEqual(['config']);
  });

  it('has defaults that pass their own validation', () => {
    for (const name of VALUE_NAMES.filter((n) => n !== 'root')) {
      const s = SETTINGS[name];
      expect(s.parse(s.default as never, { from: 'default', base: cwd })).toEqual(s.default);
    }
  });
});

describe('defaults', () => {
  it('uses every default when given nothing', () => {
    const config = run([]);
    expect(config.root).toBe(path.join(cwd, 'www'));
    expect(config.configFile).toBeNull();
    for (const name of VALUE_NAMES.filter((n) => n !== 'root')) expect(config[name]).toEqual(SETTINGS[name].default);
    expect(config).toEqual({
      root: path.join(cwd, 'www'), port: 8000, host: '127.0.0.1', python: '', debug: false,
      index: ['index.py', 'index.html'], threads: 16, configFile: null,
    });
  });

  it('reports a missing default root with how to give one', () => {
    rmSync(path.join(cwd, 'www'), { recursive: true });
    const err = fail(() => run([]));
    expect(err.key).toBe('root');
    expect(err.file).toBeNull();
    expect(err.message).toContain(`root: must be an existing directory (got ${JSON.stringify(path.join(cwd, 'www'))}`);
    expect(err.message).toContain('pypages DIR');
  });
});

describe('command-line flags', () => {
  it.each<[string[], Partial<Config>]>([
    [['--port', '8080'], { port: 8080 }],
    [['--port=0'], { port: 0 }],
    [['--port', '65535'], { port: 65535 }],
    [['--host', '0.0.0.0'], { host: '0.0.0.0' }],
    [['--host', '::1'], { host: '::1' }],
    [['--python', '/usr/bin/python3'], { python: '/usr/bin/python3' }],
    [['--python', 'python3.12'], { python: 'python3.12' }],
    [['--python', ''], { python: '' }],
    [['--debug'], { debug: true }],
    [['--index', 'main.py'], { index: ['main.py'] }],
    [['--index', ' a.py , b.html ,'], { index: ['a.py', 'b.html'] }],
    [['--threads', '1'], { threads: 1 }],
    [['--threads=512'], { threads: 512 }],
    [['--port', '1', '--port', '2'], { port: 2 }],
  ])('%j', (argv, expected) => {
    expect(run(argv)).toMatchObject(expected);
  });

  it('takes DIR relative to cwd, absolute, after --, and stores the realpath', () => {
    mkdirSync(path.join(cwd, 'site'));
    symlinkSync(path.join(cwd, 'site'), path.join(cwd, 'link'));
    expect(run(['site']).root).toBe(path.join(cwd, 'site'));
    expect(run([path.join(cwd, 'site')]).root).toBe(path.join(cwd, 'site'));
    expect(run(['--', 'site']).root).toBe(path.join(cwd, 'site'));
    expect(run(['link']).root).toBe(path.join(cwd, 'site'));
    expect(run(['--port', '1', 'site', '--debug'])).toMatchObject({ root: path.join(cwd, 'site'), port: 1, debug: true });
  });

  it('resolves a --python path or existing folder against cwd, leaves commands alone', () => {
    mkdirSync(path.join(cwd, 'venv'));
    expect(run(['--python', 'venv']).python).toBe(path.join(cwd, 'venv'));
    expect(run(['--python', './bin/python3']).python).toBe(path.join(cwd, 'bin/python3'));
    expect(run(['--python', 'python3']).python).toBe('python3');
  });

  it('reads --config relative to cwd', () => {
    const file = write('conf/x.yaml', 'port: 1234\n');
    expect(run(['--config', 'conf/x.yaml'])).toMatchObject({ port: 1234, configFile: file });
  });

  it.each<[string[], string, string]>([
    [['--port', 'abc'], '--port', '--port: must be an integer from 0 to 65535 (got "abc")'],
    [['--port', '-1'], '--port', '--port: must be an integer from 0 to 65535 (got "-1")'],
    [['--port', '65536'], '--port', '--port: must be an integer from 0 to 65535 (got "65536")'],
    [['--port', '80.5'], '--port', '--port: must be an integer from 0 to 65535 (got "80.5")'],
    [['--port='], '--port', '--port: must be an integer from 0 to 65535 (got "")'],
    [['--host', ''], '--host', '--host: must be a non-empty string (got "")'],
    [['--host', '  '], '--host', '--host: must be a non-empty string (got "  ")'],
    [['--index', ''], '--index', `--index: must be ${SETTINGS.index.allowed} (got "")`],
    [['--index', 'a/b.py'], '--index', `--index: must be ${SETTINGS.index.allowed} (got "a/b.py")`],
    [['--index', 'a.py,.hidden'], '--index', `--index: must be ${SETTINGS.index.allowed} (got "a.py,.hidden")`],
    [['--threads', '0'], '--threads', '--threads: must be an integer from 1 to 512 (got "0")'],
    [['--threads', '513'], '--threads', '--threads: must be an integer from 1 to 512 (got "513")'],
    [['--threads', 'many'], '--threads', '--threads: must be an integer from 1 to 512 (got "many")'],
    [['--debug=yes'], '--debug', '--debug: takes no value (got "yes")'],
    [['--port'], '--port', '--port: needs a value: --port N, where N is an integer from 0 to 65535'],
    [['--port', '--debug'], '--port', '--port: needs a value: --port N, where N is an integer from 0 to 65535'],
    [['--config'], '--config', '--config: needs a value: --config FILE, where FILE is an existing YAML file'],
    [['a', 'b'], 'DIR', 'expected at most one DIR (root), got 2: a b'],
  ])('rejects %j', (argv, key, message) => {
    const err = fail(() => run(argv));
    expect(err.message).toBe(message);
    expect(err.key).toBe(key);
    expect(err.file).toBeNull();
  });

  it('rejects a DIR that is missing or a file, naming the full path', () => {
    write('file.txt', 'x');
    for (const dir of ['nope', 'file.txt']) {
      const err = fail(() => run([dir]));
      expect(err.message).toBe(`DIR: must be an existing directory (got ${JSON.stringify(path.join(cwd, dir))})`);
      expect(err.key).toBe('DIR');
    }
  });

  it('rejects an empty value for every flag that takes one (python: empty means auto)', () => {
    for (const s of SETTING_LIST.filter((x) => x.metavar !== null && !x.positional && x.name !== 'python')) {
      const err = fail(() => run([`${s.flag}=`]));
      expect(err.message).toBe(`${s.flag}: must be ${s.allowed} (got "")`);
    }
  });

  it.each([
    ['--prot', '"--prot" (did you mean --port?)'],
    ['--verbose', '"--verbose"'],
    ['-x', '"-x"'],
  ])('rejects the unknown option %s, pointing to --help', (flag, named) => {
    const err = fail(() => run([flag, '1']));
    expect(err.message).toContain(`unknown option ${named}`);
    expect(err.message).toContain('--help');
    expect(err.key).toBe(flag);
  });

  it('reports an explicit --config that does not exist', () => {
    const err = fail(() => run(['--config', 'missing.yaml']));
    expect(err.key).toBe('--config');
    expect(err.message).toBe(`--config: must be an existing YAML file (got ${JSON.stringify(path.join(cwd, 'missing.yaml'))})`);
    mkdirSync(path.join(cwd, 'adir'));
    expect(fail(() => run(['--config', 'adir'])).message).toContain('adir');
  });
});

describe('help and version', () => {
  it.each([['--help'], ['-h'], ['--port', 'abc', '--help'], ['--nonsense', '-h']])('%j prints help', (...argv) => {
    const result = parseCli(argv, cwd);
    expect(result.kind).toBe('help');
  });

  it('lists every setting: its flag, metavar, YAML key, default and help', () => {
    const text = helpText();
    for (const s of SETTING_LIST) {
      expect(text).toContain(s.metavar === null || s.positional ? s.flag : `${s.flag} ${s.metavar}`);
      if (s.yaml !== null) expect(text).toContain(`yaml: ${s.yaml}`);
      expect(text.replace(/\s+/g, ' ')).toContain(`default: ${s.defaultText}`);
      expect(text.replace(/\s+/g, ' ')).toContain(s.help);
    }
    expect(text).toContain('--help');
    expect(text).toContain('--version');
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
  });

  it('prints the package version', () => {
    const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string };
    expect(parseCli(['--version'], cwd)).toEqual({ kind: 'version', text: `pypages ${pkg.version}` });
  });

  it('renders a markdown row per setting', () => {
    const table = markdownTable().split('\n');
    expect(table).toHaveLength(SETTING_LIST.length + 2);
    for (const s of SETTING_LIST) expect(table.some((row) => row.startsWith(`| ${s.name} | \``))).toBe(true);
  });

  it('matches the README settings table (regenerate it with: npm run settings-table)', () => {
    const text = readFileSync(path.join(repo, 'README.md'), 'utf8');
    const match = /<!-- settings:start -->\n([\s\S]*?)\n<!-- settings:end -->/.exec(text);
    expect(match, 'README.md needs the settings table between <!-- settings:start --> and <!-- settings:end -->').not.toBeNull();
    expect(match![1].trim()).toBe(markdownTable());
  });
});

describe('YAML file', () => {
  it('reads every key, relative paths against the file\'s folder', () => {
    mkdirSync(path.join(cwd, 'conf/site'), { recursive: true });
    mkdirSync(path.join(cwd, 'conf/venv'));
    const file = write('conf/settings.yaml', [
      'root: site', 'port: 9000', 'host: 0.0.0.0', 'python: venv', 'debug: true',
      'index: [main.py, default.htm]', 'threads: 4',
    ].join('\n'));
    expect(run(['--config', file])).toEqual({
      root: path.join(cwd, 'conf/site'), port: 9000, host: '0.0.0.0', python: path.join(cwd, 'conf/venv'),
      debug: true, index: ['main.py', 'default.htm'], threads: 4, configFile: file,
    });
  });

  it.each<[string, Partial<Config>]>([
    ['index: a.py, b.html', { index: ['a.py', 'b.html'] }],
    ['index:\n  - a.py\n  - b.py', { index: ['a.py', 'b.py'] }],
    ['python: python3.12', { python: 'python3.12' }],
    ['python: ./env/bin/python', { python: '/CWD/env/bin/python' }],
    ['python: ""', { python: '' }],
    ['port: "8001"', { port: 8001 }],
    ['port: 0x1F41', { port: 8001 }],
    ['debug: false', { debug: false }],
    ['root: www', { root: '/CWD/www' }],
  ])('%j', (yaml, expected) => {
    write('pypages.yaml', yaml);
    const want = JSON.parse(JSON.stringify(expected).replaceAll('/CWD', cwd)) as Partial<Config>;
    expect(run([])).toMatchObject(want);
  });

  it('picks pypages.yaml from cwd by default, and --config replaces it', () => {
    const file = write('pypages.yaml', 'port: 7000\n');
    expect(run([])).toMatchObject({ port: 7000, configFile: file });
    const other = write('other.yaml', 'threads: 3\n');
    expect(run(['--config', 'other.yaml'])).toMatchObject({ port: 8000, threads: 3, configFile: other });
  });

  it('treats an empty or comment-only file as all defaults', () => {
    for (const text of ['', '\n', '# nothing here\n', '---\n']) {
      const file = write('pypages.yaml', text);
      expect(run([])).toEqual({ ...makeConfig({ root: path.join(cwd, 'www') }), configFile: file });
    }
  });

  it('is overridden by flags, and overrides defaults', () => {
    mkdirSync(path.join(cwd, 'a'));
    mkdirSync(path.join(cwd, 'b'));
    write('pypages.yaml', 'root: a\nport: 9000\nhost: 10.0.0.1\ndebug: true\nindex: [x.py]\nthreads: 2\npython: python3\n');
    expect(run([])).toMatchObject({ root: path.join(cwd, 'a'), port: 9000, host: '10.0.0.1', debug: true, index: ['x.py'], threads: 2, python: 'python3' });
    expect(run(['b', '--port', '9001', '--host', '::', '--index', 'y.py', '--threads', '5', '--python', 'python'])).toEqual({
      root: path.join(cwd, 'b'), port: 9001, host: '::', debug: true, index: ['y.py'], threads: 5, python: 'python',
      configFile: path.join(cwd, 'pypages.yaml'),
    });
  });

  it('resolves YAML root against the file\'s folder but a CLI root against cwd', () => {
    mkdirSync(path.join(cwd, 'conf/www'), { recursive: true });
    write('conf/pypages.yaml', 'root: www\n');
    expect(run(['--config', 'conf/pypages.yaml']).root).toBe(path.join(cwd, 'conf/www'));
    expect(run(['--config', 'conf/pypages.yaml', 'www']).root).toBe(path.join(cwd, 'www'));
  });

  const badValues: [string, string, string][] = [
    ['root', 'nowhere', '"/CWD/nowhere"'],
    ['root', 'pypages.yaml', '"/CWD/pypages.yaml"'],
    ['root', '5', '5'],
    ['root', '', 'null'],
    ['port', 'abc', '"abc"'],
    ['port', '-1', '-1'],
    ['port', '65536', '65536'],
    ['port', '80.5', '80.5'],
    ['port', 'true', 'true'],
    ['port', '[80]', '[80]'],
    ['port', '', 'null'],
    ['host', '""', '""'],
    ['host', '5', '5'],
    ['host', '[a]', '["a"]'],
    ['python', '5', '5'],
    ['python', '[python3]', '["python3"]'],
    ['python', '', 'null'],
    ['debug', 'yes', '"yes"'],
    ['debug', '1', '1'],
    ['debug', '"true"', '"true"'],
    ['index', '[]', '[]'],
    ['index', '""', '""'],
    ['index', '[a/b.py]', '["a/b.py"]'],
    ['index', '[.hidden]', '[".hidden"]'],
    ['index', '[1]', '[1]'],
    ['index', '{a: 1}', '{"a":1}'],
    ['threads', '0', '0'],
    ['threads', '513', '513'],
    ['threads', 'x', '"x"'],
  ];

  it.each(badValues)('rejects %s: %s, naming file, key and what is allowed', (key, value, got) => {
    const file = write('pypages.yaml', `${key}: ${value}\n`);
    const err = fail(() => run([]));
    const allowed = YAML_SETTINGS.get(key)?.allowed;
    expect(err.message).toBe(`pypages.yaml: ${key}: must be ${allowed} (got ${got.replace('/CWD', cwd)})`);
    expect(err.file).toBe(file);
    expect(err.key).toBe(key);
  });

  it('has a bad-value case for every YAML key', () => {
    expect(new Set(badValues.map(([key]) => key))).toEqual(new Set(YAML_SETTINGS.keys()));
  });

  it('rejects a bad value even when a flag overrides it', () => {
    write('pypages.yaml', 'port: abc\n');
    expect(fail(() => run(['--port', '80'])).message).toContain('pypages.yaml: port:');
  });

  it('shows the file path relative to cwd when inside it, absolute otherwise', () => {
    const inside = write('conf/p.yaml', 'port: x\n');
    expect(fail(() => run(['--config', inside])).message).toMatch(/^conf\/p\.yaml: port: /);
    const outsideDir = realpathSync(mkdtempSync(path.join(tmpdir(), 'pypages-outside-')));
    try {
      const outside = path.join(outsideDir, 'p.yaml');
      writeFileSync(outside, 'port: x\n');
      expect(fail(() => run(['--config', outside])).message.startsWith(`${outside}: port: `)).toBe(true);
    } finally {
      rmSync(outsideDir, { recursive: true, force: true });
    }
  });

  it.each([
    ['prot: 80', 'prot', '. Did you mean "port"?'],
    ['zzzzzzzz: 1', 'zzzzzzzz', ''],
    ['config: other.yaml', 'config', ''],
    ['Port: 80', 'Port', '. Did you mean "port"?'],
  ])('rejects unknown key in %j', (yaml, key, hint) => {
    const file = write('pypages.yaml', yaml);
    const err = fail(() => run([]));
    expect(err.message).toBe(`pypages.yaml: unknown key "${key}"; allowed keys: root, port, host, python, debug, index, threads${hint}`);
    expect(err.file).toBe(file);
    expect(err.key).toBe(key);
  });

  it.each([
    ['port: 1\nport: 2\n', 2],
    ['index: [a.py,\n', 2],
    ['\t- x\n', 1],
    ['port: 80\n  bad: x\n', 1],
    ['a: 1\n---\nb: 2\n', 2],
    ['port: !custom 80\n', 1],
  ])('reports YAML syntax errors with file and line: %j', (yaml, line) => {
    const file = write('pypages.yaml', yaml);
    const err = fail(() => run([]));
    expect(err.message).toMatch(new RegExp(`^pypages\\.yaml, line ${line}, column \\d+: invalid YAML: \\S`));
    expect(err.message).not.toContain('\n');
    expect(err.file).toBe(file);
    expect(err.key).toBeNull();
  });

  it('reports an unresolved alias', () => {
    write('pypages.yaml', 'port: *nothing\n');
    expect(fail(() => run([])).message).toMatch(/^pypages\.yaml(, line \d+, column \d+)?: invalid YAML: /);
  });

  it.each([
    ['- port\n- 80\n', 'a list'],
    ['hello\n', 'the string "hello"'],
    ['8000\n', 'the number 8000'],
    ['true\n', 'the boolean true'],
  ])('rejects a file that is not a mapping: %j', (yaml, kind) => {
    const file = write('pypages.yaml', yaml);
    const err = fail(() => run([]));
    expect(err.message).toBe(`pypages.yaml: must be a mapping of settings (key: value), got ${kind}; allowed keys: root, port, host, python, debug, index, threads`);
    expect(err.file).toBe(file);
  });
});

describe('makeConfig', () => {
  it('fills defaults and validates', () => {
    const config = makeConfig({ root: path.join(cwd, 'www'), port: 0, debug: true });
    expect(config).toEqual({
      root: path.join(cwd, 'www'), port: 0, host: '127.0.0.1', python: '', debug: true,
      index: ['index.py', 'index.html'], threads: 16, configFile: null,
    });
  });

  it('resolves a relative root against process.cwd()', () => {
    expect(makeConfig({ root: path.relative(process.cwd(), path.join(cwd, 'www')) }).root).toBe(path.join(cwd, 'www'));
  });

  it.each<[Record<string, unknown>, string, string]>([
    [{ port: 70000 }, 'port', 'port: must be an integer from 0 to 65535 (got 70000)'],
    [{ threads: 0 }, 'threads', 'threads: must be an integer from 1 to 512 (got 0)'],
    [{ index: [] }, 'index', `index: must be ${SETTINGS.index.allowed} (got [])`],
    [{ debug: 'yes' }, 'debug', 'debug: must be true or false (got "yes")'],
    [{ colour: 'red' }, 'colour', 'unknown setting "colour"; allowed: root, port, host, python, debug, index, threads'],
  ])('rejects %j', (values, key, message) => {
    const err = fail(() => makeConfig({ root: path.join(cwd, 'www'), ...values }));
    expect(err.message).toBe(message);
    expect(err.key).toBe(key);
  });

  it('rejects a missing root', () => {
    expect(fail(() => makeConfig({ root: path.join(cwd, 'gone') })).key).toBe('root');
  });
});

describe('frozen config', () => {
  it('cannot be mutated', () => {
    for (const config of [run([]), makeConfig({ root: path.join(cwd, 'www') })]) {
      expect(Object.isFrozen(config)).toBe(true);
      expect(Object.isFrozen(config.index)).toBe(true);
      expect(() => { (config as { port: number }).port = 1; }).toThrow(TypeError);
      expect(() => { (config.index as string[]).push('x.py'); }).toThrow(TypeError);
      expect(() => { (config as unknown as Record<string, unknown>).extra = 1; }).toThrow(TypeError);
    }
  });

  it('does not share the default index list with the table', () => {
    expect(run([]).index).not.toBe(SETTINGS.index.default);
  });
});
