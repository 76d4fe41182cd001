// Who a group runs as: the accounts files parsed, and the identity rules
// (owner, a named user, a user folder's user, root refused unless allowed,
// nothing switched when the server is not root), on fake accounts files and
// real temp files (owners from this process: root in CI, or the runner).
import { chownSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseGroups, parsePasswd, systemAccounts } from '../../../lib/tenant/accounts.js';
import { identityFor, SERVER, tenantOf } from '../../../lib/tenant/identity.js';
import { asUser, baseEnvironment } from '../../../lib/tenant/launch-line.js';
import { removeDir, tempDir } from '../../helpers.js';

const dir = tempDir('pypages-identity-');
afterAll(() => removeDir(dir));
const PASSWD = [
  'root:x:0:0:root:/root:/bin/bash',
  'alice:x:1001:1001:Alice:/home/alice:/bin/sh',
  'bob:x:1002:1002::/home/bob:/usr/sbin/nologin',
  'broken:x:abc:1:::/x',
  'relative:x:1003:1003::home/rel:/bin/sh',
  'alice:x:1999:1999:second alice:/home/other:/bin/sh',
].join('\n');
const GROUP = [
  'root:x:0:',
  'alice:x:1001:',
  'bob:x:1002:',
  'web:x:2000:alice,bob',
  'staff:x:50:alice',
  'bad:x:z:',
].join('\n');
writeFileSync(path.join(dir, 'passwd'), PASSWD);
writeFileSync(path.join(dir, 'group'), GROUP);
const accounts = systemAccounts(path.join(dir, 'passwd'), path.join(dir, 'group'));
const script = (name: string, uid: number) => {
  const file = path.join(dir, name);
  writeFileSync(file, 'def application(e, s): pass\n');
  if (process.getuid?.() === 0) chownSync(file, uid, uid);
  return file;
};
const request = (over: Partial<Parameters<typeof identityFor>[0]>) => ({
  user: '',
  group: '',
  allowRootPages: false,
  script: path.join(dir, 'missing.py'),
  siteUser: null,
  ...over,
});

describe('accounts', () => {
  it('parses passwd and group lines, skipping broken ones; the first of a name wins', () => {
    expect(parsePasswd(PASSWD).map((a) => a.name)).toEqual(['root', 'alice', 'bob', 'alice']);
    expect(parseGroups(GROUP).map((g) => g.name)).toEqual(['root', 'alice', 'bob', 'web', 'staff']);
    expect(accounts.user('alice')).toEqual({ name: 'alice', uid: 1001, gid: 1001, home: '/home/alice' });
    expect(accounts.user(1002)?.name).toBe('bob');
    expect(accounts.user('1999')?.home).toBe('/home/other');
    expect(accounts.user('nobody-here')).toBeUndefined();
    expect(accounts.group('web')?.gid).toBe(2000);
    expect(accounts.group(50)?.name).toBe('staff');
  });

  it("gives a user's groups: its primary one and every group listing it, sorted", () => {
    expect(accounts.groupsOf(accounts.user('alice')!)).toEqual([50, 1001, 2000]);
    expect(accounts.groupsOf(accounts.user('bob')!)).toEqual([1002, 2000]);
  });
});

describe.skipIf(process.getuid?.() !== 0)('identityFor as root (needs root to chown its scripts)', () => {
  it("runs a script as its owner by default, with the owner's groups", () => {
    const id = identityFor(request({ script: script('a.py', 1001) }), accounts, true);
    expect(id).toEqual({
      kind: 'user',
      runAs: { user: 'alice', uid: 1001, gid: 1001, groups: [50, 1001, 2000], home: '/home/alice' },
    });
    expect(tenantOf(id, 'default')).toBe('user:alice');
  });

  it('refuses a root-owned script unless root pages are allowed, and an owner with no account', () => {
    const rootScript = script('r.py', 0);
    const refused = identityFor(request({ script: rootScript }), accounts, true);
    expect(refused).toEqual({ kind: 'refused', reason: expect.stringContaining('the script is owned by root') });
    expect(identityFor(request({ script: rootScript, allowRootPages: true }), accounts, true)).toBe(SERVER);
    const orphan = identityFor(request({ script: script('o.py', 4242) }), accounts, true);
    expect(orphan).toEqual({ kind: 'refused', reason: 'its owner (uid 4242) is not in /etc/passwd' });
  });
});

describe('identityFor', () => {
  it('switches nothing when the server is not root', () => {
    expect(identityFor(request({ user: 'alice' }), accounts, false)).toBe(SERVER);
    expect(tenantOf(SERVER, 'shop')).toBe('site:shop');
  });

  it('takes user: and group: by name or number, and a user folder its own user', () => {
    const named = identityFor(request({ user: 'bob', group: 'web' }), accounts, true);
    expect(named).toMatchObject({ kind: 'user', runAs: { uid: 1002, gid: 2000, groups: [1002, 2000] } });
    expect(identityFor(request({ user: '1001' }), accounts, true)).toMatchObject({ runAs: { user: 'alice' } });
    expect(identityFor(request({ siteUser: 'bob' }), accounts, true)).toMatchObject({ runAs: { user: 'bob' } });
    expect(identityFor(request({ siteUser: 'bob', user: 'alice' }), accounts, true)).toMatchObject({
      runAs: { user: 'alice' },
    });
  });

  it('refuses a missing user or group, user: root, and a script that is gone', () => {
    expect(identityFor(request({ user: 'mallory' }), accounts, true)).toEqual({
      kind: 'refused',
      reason: 'its user mallory is not in /etc/passwd',
    });
    expect(identityFor(request({ user: 'alice', group: 'nogroup' }), accounts, true)).toEqual({
      kind: 'refused',
      reason: 'its group nogroup is not in /etc/group',
    });
    expect(identityFor(request({ user: 'root' }), accounts, true)).toMatchObject({
      kind: 'refused',
      reason: expect.stringContaining('(user: root)'),
    });
    expect(identityFor(request({ user: 'root', allowRootPages: true }), accounts, true)).toBe(SERVER);
    expect(identityFor(request({}), accounts, true)).toMatchObject({ kind: 'refused', reason: /is gone/ });
  });
});

describe('launch line', () => {
  const alice = { user: 'alice', uid: 1001, gid: 1001, groups: [50, 1001], home: '/home/alice' };

  it('runs a command through setpriv with the ids, the groups and no_new_privs; unchanged for the server', () => {
    expect(asUser('/usr/bin/python3', ['-u', 'x'], alice)).toEqual({
      command: 'setpriv',
      args: [
        '--reuid',
        '1001',
        '--regid',
        '1001',
        '--groups',
        '50,1001',
        '--no-new-privs',
        '--',
        '/usr/bin/python3',
        '-u',
        'x',
      ],
    });
    expect(asUser('py', [], { ...alice, groups: [] }).args).toContain('--clear-groups');
    expect(asUser('py', ['a'], null)).toEqual({ command: 'py', args: ['a'] });
  });

  it("gives a user a fresh environment: the locale kept, nothing else of the operator's", () => {
    const server = {
      PATH: '/opt/secret/bin',
      AWS_SECRET: 'x',
      LANG: 'C.UTF-8',
      LC_TIME: 'de_DE',
      TZ: 'UTC',
      HOME: '/root',
    };
    expect(baseEnvironment(alice, server)).toEqual({
      LANG: 'C.UTF-8',
      LC_TIME: 'de_DE',
      TZ: 'UTC',
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: '/home/alice',
      USER: 'alice',
      LOGNAME: 'alice',
      SHELL: '/bin/sh',
    });
    expect(baseEnvironment(null, server)).toBe(server);
  });
});
