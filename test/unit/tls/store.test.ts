import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CertificateStore } from '../../../lib/tls/store.js';
import { removeDir, tempDir } from '../../helpers.js';

describe('CertificateStore', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir('pypages-store-')));
  afterEach(() => removeDir(dir));

  it('makes the account key once per directory URL, 0600 in 0700 folders', async () => {
    const store = new CertificateStore(join(dir, 'state'));
    let made = 0;
    const create = async () => `KEY${++made}`;
    expect(await store.accountKey('https://ca.example/dir', create)).toBe('KEY1');
    expect(await store.accountKey('https://ca.example/dir', create)).toBe('KEY1');
    expect(await store.accountKey('https://other.example/dir', create)).toBe('KEY2');
    expect(statSync(join(dir, 'state')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'state/acme')).mode & 0o777).toBe(0o700);
  });

  it('saves and loads a certificate and key; tightens a state folder made open', () => {
    mkdirSync(join(dir, 'state'), { mode: 0o755 });
    const store = new CertificateStore(join(dir, 'state'));
    expect(store.load('www.example')).toBeNull();
    store.save('WWW.example', { cert: 'CERT', key: 'KEY' });
    expect(store.load('www.example')).toEqual({ cert: 'CERT', key: 'KEY' });
    const folder = join(dir, 'state/certificates/www.example');
    expect(readFileSync(join(folder, 'key.pem'), 'utf8')).toBe('KEY');
    for (const f of ['key.pem', 'cert.pem']) expect(statSync(join(folder, f)).mode & 0o777).toBe(0o600);
    for (const d of ['state', 'state/certificates', 'state/certificates/www.example'])
      expect(statSync(join(dir, d)).mode & 0o777).toBe(0o700);
  });

  it('refuses a name that is not a host name (no path tricks)', () => {
    const store = new CertificateStore(join(dir, 'state'));
    for (const name of ['../x', 'a/b', '.hidden', ''])
      expect(() => store.save(name, { cert: 'C', key: 'K' })).toThrow(/not a host name/);
  });
});
