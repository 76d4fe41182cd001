// What the root launcher will do for a server child that gave up root
// (lib/tenant/launch-policy.ts), on fake accounts files: users and groups
// allowed and refused, the variables root would read, the server-user, what
// a start request must look like (server/launcher-messages.ts), when the
// drop held (server/drop.ts), and which log files are handed over
// (server/handover.ts).
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeConfig } from '../../../lib/config/config.js';
import { systemAccounts } from '../../../lib/tenant/accounts.js';
import { configRefusal, ownerRule, policyOf, programRefusal } from '../../../lib/tenant/launch-policy.js';
import { refusedEnv, VETTED, rootTrusted, userFor } from '../../../lib/tenant/launch-policy.js';
import { serverUserFor } from '../../../lib/tenant/server-user.js';
import { privilegesLeft } from '../../../server/drop.js';
import { logFiles } from '../../../server/handover.js';
import { checkedStart } from '../../../server/launcher-messages.js';
import { removeDir, tempDir } from '../../helpers.js';

const dir = tempDir('pypages-policy-');
afterAll(() => removeDir(dir));
writeFileSync(
  path.join(dir, 'passwd'),
  [
    'root:x:0:0::/root:/bin/sh',
    'daemon:x:1:1::/:/bin/sh',
    'www-data:x:33:33::/var/www:/bin/sh',
    'shop:x:120:130::/srv/shop:/bin/sh',
    'alice:x:1001:1001::/home/alice:/bin/sh',
    'nobody:x:65534:65534::/nonexistent:/bin/sh',
  ].join('\n'),
);
writeFileSync(
  path.join(dir, 'group'),
  [
    'root:x:0:',
    'daemon:x:1:',
    'www-data:x:33:',
    'shopg:x:130:',
    'staff:x:50:alice',
    'alice:x:1001:',
    'web:x:2000:alice',
    'shadow:x:42:alice',
    'nogroup:x:65534:alice',
  ].join('\n'),
);
const accounts = systemAccounts(path.join(dir, 'passwd'), path.join(dir, 'group'));
const WWW = { uid: 33, gid: 33 };
const config = (over: Record<string, unknown> = {}) => makeConfig({ root: dir, ...over });

describe('the launch policy', () => {
  const policy = policyOf(config({ groups: [] }), WWW, accounts);

  it('starts a tenant with its own groups less the system ones; refuses root, the server-user, system accounts and unknown uids', () => {
    expect(userFor({ uid: 1001, gid: 1001 }, policy, accounts)).toEqual({
      runAs: { user: 'alice', uid: 1001, gid: 1001, groups: [1001, 2000], home: '/home/alice' },
    });
    expect(userFor({ uid: 65534, gid: 65534 }, policy, accounts)).toMatchObject({
      refused: 'uid 65534: a system account (outside 1000..60000) that no user: setting names',
    });
    expect(userFor(null, policy, accounts)).toEqual({ refused: 'root, without allow-root-pages' });
    expect(userFor({ uid: 0, gid: 0 }, policy, accounts)).toEqual({ refused: 'uid 0: not a tenant' });
    expect(userFor({ uid: 33, gid: 33 }, policy, accounts)).toEqual({ refused: "uid 33: the server-user's own" });
    expect(userFor({ uid: 1, gid: 1 }, policy, accounts)).toMatchObject({ refused: expect.stringMatching(/system/) });
    expect(userFor({ uid: 4242, gid: 4242 }, policy, accounts)).toEqual({ refused: 'uid 4242: no such user' });
  });

  it('refuses gid 0, the server-user group and a system group the config does not name', () => {
    expect(userFor({ uid: 1001, gid: 0 }, policy, accounts)).toEqual({ refused: "gid 0: root's group" });
    expect(userFor({ uid: 1001, gid: 33 }, policy, accounts)).toEqual({ refused: "gid 33: the server-user's group" });
    expect(userFor({ uid: 1001, gid: 50 }, policy, accounts)).toMatchObject({
      refused: expect.stringMatching(/system/),
    });
    expect(userFor({ uid: 1001, gid: 2000 }, policy, accounts)).toMatchObject({ runAs: { gid: 2000 } });
  });

  it('allows root with allow-root-pages (top level or a site), and system accounts the config names', () => {
    expect(userFor(null, policyOf(config({ allowRootPages: true }), WWW, accounts), accounts)).toEqual({ runAs: null });
    const named = policyOf(config({ user: 'shop', group: 'staff' }), WWW, accounts);
    expect(userFor({ uid: 120, gid: 130 }, named, accounts)).toMatchObject({ runAs: { user: 'shop' } });
    expect(userFor({ uid: 1001, gid: 50 }, named, accounts)).toMatchObject({
      runAs: { gid: 50, groups: [50, 1001, 2000] },
    });
    const nobody = policyOf(config({ user: 'nobody' }), WWW, accounts);
    expect(userFor({ uid: 65534, gid: 65534 }, nobody, accounts)).toMatchObject({ runAs: { user: 'nobody' } });
  });

  it("tells a tenant to import only its own or root's files, unless the config names its user", () => {
    expect(ownerRule(1001, policy)).toBe('1001 33');
    expect(ownerRule(120, policyOf(config({ user: 'shop' }), WWW, accounts))).toBe(null);
  });

  it("starts only pypages' worker or fork server, by a Python only root or the user can change", () => {
    const worker = ['-u', '-m', 'pypages_worker', '--root', '/'];
    expect(programRefusal('/usr/bin/python3', worker, 1001)).toBe(null);
    expect(programRefusal('/usr/bin/python3', ['-u', '-m', 'pypages_worker.forkserver'], 1001)).toBe(null);
    expect(programRefusal('/usr/bin/python3', ['-c', 'pass'], 1001)).toContain("not a pypages worker's command line");
    expect(programRefusal('/usr/bin/python3', ['-u', '-m', 'http.server'], 1001)).toContain('command line');
    expect(programRefusal('/usr/bin/python3', ['-m', 'pypages_worker'], 1001)).toContain('command line');
    expect(programRefusal('/bin/sh', worker, 1001)).toBe('/bin/sh: not a Python that only root or uid 1001 can change');
    expect(programRefusal('/nonexistent/python3', worker, 1001)).toContain('not a Python');
  });

  it('refuses the variables root would read unless the operator set them so', () => {
    const operator = policyOf(config({ env: { LD_LIBRARY_PATH: '/opt/oracle/lib' } }), WWW, accounts);
    expect(refusedEnv({ LD_PRELOAD: '/tmp/x.so', PATH: '/tmp', GLIBC_TUNABLES: 'x', FOO: 'bar' }, operator)).toEqual([
      'LD_PRELOAD',
      'PATH',
      'GLIBC_TUNABLES',
    ]);
    expect(refusedEnv({ LD_LIBRARY_PATH: '/opt/oracle/lib', LANG: 'C.UTF-8' }, operator)).toEqual([]);
    expect(refusedEnv({ PYTHONHOME: '/tmp/x', PYTHONSTARTUP: '/tmp/x.py', PYTHONHASHSEED: '0' }, operator)).toEqual([
      'PYTHONHOME',
      'PYTHONSTARTUP',
      'PYTHONHASHSEED',
    ]);
    expect(
      refusedEnv({ GIT_SSH_COMMAND: 'sh /tmp/x', NODE_OPTIONS: '-r /tmp/x', PERL5OPT: '-Mx', APP: 'y' }, operator),
    ).toEqual(['GIT_SSH_COMMAND', 'NODE_OPTIONS', 'PERL5OPT']);
    const hashSeed = policyOf(config({ env: { PYTHONHASHSEED: '0' } }), WWW, accounts);
    expect(refusedEnv({ PYTHONHASHSEED: '0' }, hashSeed)).toEqual([]);
    expect(refusedEnv({ LD_LIBRARY_PATH: '/tmp' }, operator)).toEqual(['LD_LIBRARY_PATH']);
    expect(refusedEnv({ 'A=B': 'x', C: 'nul\0' }, operator)).toEqual(['A=B', 'C']);
    // read as the tenant before owner.py checks anything (review-pd2 F1): a user site's .pth, an OpenSSL module
    const start = {
      HOME: '/tmp/w',
      OPENSSL_CONF: '/tmp/o.cnf',
      OPENSSL_MODULES: '/tmp',
      _PYTHON_SYSCONFIGDATA_NAME: 'x',
    };
    expect(refusedEnv({ ...start, BROWSER: '/tmp/x' }, operator)).toEqual([...Object.keys(start), 'BROWSER']);
    const home = policyOf(config({ env: { HOME: '/srv/shop' } }), WWW, accounts);
    expect(refusedEnv({ HOME: '/srv/shop' }, home)).toEqual([]);
  });

  it.skipIf(process.getuid?.() !== 0)('probes as root only a python* that only root can change', () => {
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'python3'), '#!/bin/sh\n', { mode: 0o755 });
    writeFileSync(path.join(bin, 'sh'), '#!/bin/sh\n', { mode: 0o755 });
    expect(rootTrusted(path.join(bin, 'python3'))).toBe(path.join(bin, 'python3'));
    expect(rootTrusted(path.join(bin, 'sh'))).toBe(null);
    expect(programRefusal(path.join(bin, 'python3'), ['-u', '-m', 'pypages_worker'], 1001)).toBe(null);
    chownSync(path.join(bin, 'python3'), 1001, 1001); // a tenant's own venv Python
    expect(programRefusal(path.join(bin, 'python3'), ['-u', '-m', 'pypages_worker'], 1001)).toBe(null);
    expect(programRefusal(path.join(bin, 'python3'), ['-u', '-m', 'pypages_worker'], 1002)).toContain('not a Python');
    expect(rootTrusted(path.join(bin, 'python3'))).toBe(null);
    chownSync(path.join(bin, 'python3'), 0, 0);
    chmodSync(bin, 0o777);
    expect(rootTrusted(path.join(bin, 'python3'))).toBe(null);
    expect(programRefusal(path.join(bin, 'python3'), ['-u', '-m', 'pypages_worker'], 1001)).toContain('not a Python');
  });

  it.skipIf(process.getuid?.() !== 0)(
    'a link named python* counts by what it leads to: not a root-owned perl or od',
    () => {
      const bin = path.join(dir, 'bin2');
      const links = path.join(dir, 'links');
      mkdirSync(bin);
      mkdirSync(links);
      writeFileSync(path.join(bin, 'perl'), '#!/bin/sh\n', { mode: 0o755 });
      symlinkSync(path.join(bin, 'perl'), path.join(links, 'python3'));
      expect(rootTrusted(path.join(links, 'python3'))).toBe(null);
    },
  );

  it.skipIf(process.getuid?.() !== 0)(
    "the config root reads its policy from must be root's alone, and its folder",
    () => {
      const etc = path.join(dir, 'etc');
      mkdirSync(etc, { mode: 0o755 });
      expect(configRefusal(null, etc)).toBe(null); // no pypages.yaml in a root-only folder
      writeFileSync(path.join(etc, 'pypages.yaml'), 'port: 8000\n', { mode: 0o644 });
      expect(configRefusal(null, etc)).toBe(null);
      expect(configRefusal('pypages.yaml', etc)).toBe(null);
      chownSync(path.join(etc, 'pypages.yaml'), 33, 33);
      expect(configRefusal(null, etc)).toContain('can be changed by another user than root');
      chownSync(path.join(etc, 'pypages.yaml'), 0, 0);
      chmodSync(etc, 0o777); // anyone may put a pypages.yaml there, or swap it
      expect(configRefusal(null, etc)).toContain(`a folder it is looked for in, ${etc}`);
      expect(configRefusal(path.join(etc, 'pypages.yaml'), '/')).toContain(etc);
    },
  );
});

describe('the variables the launcher vets', () => {
  it("are the fork server's list too (lib/python/pypages_worker/owner.py VETTED), name for name", () => {
    const code =
      'import sys; sys.path.insert(0, "lib/python"); from pypages_worker import owner; print(owner.VETTED.pattern)';
    const python = execFileSync('/usr/bin/python3', ['-c', code], { encoding: 'utf8' }).trim();
    expect(python).toBe(VETTED.source);
  });
});

describe('the server-user', () => {
  it('is www-data by default, else nobody; root means none; a missing one is an error', () => {
    expect(serverUserFor('', accounts)).toMatchObject({ user: 'www-data', uid: 33 });
    expect(serverUserFor('root', accounts)).toBe(null);
    expect(serverUserFor('1001', accounts)).toMatchObject({ user: 'alice' });
    expect(serverUserFor('ghost', accounts)).toBe('server-user: ghost is not in /etc/passwd');
  });

  it('held only with every uid the user and no capability', () => {
    const status = (uid: string, eff: string) =>
      `Uid:\t${uid}\nCapPrm:\t0000000000000000\nCapEff:\t${eff}\nCapAmb:\t0\n`;
    expect(privilegesLeft(33, status('33\t33\t33\t33', '0000000000000000'))).toBe(null);
    expect(privilegesLeft(33, status('33\t33\t0\t33', '0000000000000000'))).toBe('uids 33 33 0 33');
    expect(privilegesLeft(33, status('33\t33\t33\t33', '0000000000000080'))).toBe('CapEff 0000000000000080');
  });
});

describe('a start request', () => {
  const ok = { id: 1, python: '/usr/bin/python3', args: ['-u'], cwd: '/', env: { A: 'b' }, user: { uid: 1, gid: 2 } };

  it('is taken only in its shape', () => {
    expect(checkedStart(ok)).toMatchObject(ok);
    expect(checkedStart({ ...ok, id: 'x' })).toBe('no request id');
    expect(checkedStart({ ...ok, args: [1] })).toBe('args must be a list of text');
    expect(checkedStart({ ...ok, env: { A: 1 } })).toBe('env must map names to text');
    expect(checkedStart({ ...ok, user: { uid: '0' } })).toBe('user must be null or { uid, gid }');
    expect(checkedStart({ ...ok, python: 'a\0b' })).toBe('python and cwd must be text');
    expect(checkedStart({ ...ok, tenant: { name: 'x', caps: { memory: -1, cpuPercent: 0, pids: 0 } } })).toBe(
      'tenant must be { name, caps }',
    );
  });
});

describe('the log files handed to the server-user', () => {
  it('are those the config names, {site} expanded, not {user} nor "-"', () => {
    const c = config({
      accessLog: '/var/log/pp/{site}.log',
      errorLog: '-',
      sites: [{ name: 'shop', hosts: ['a'], root: dir, 'error-log': '/var/log/pp/{user}.err' }],
    });
    expect(logFiles(c)).toEqual(['/var/log/pp/default.log', '/var/log/pp/shop.log']);
  });
});
