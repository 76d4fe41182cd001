// Where tls: auto keeps what it must not lose: the ACME account key (one per
// CA directory), and each host name's certificate chain and private key.
// Folders are 0700 and files 0600, whatever the umask; files are written
// whole to a temporary name and renamed, so a crash never leaves half a key.
//
//   STATE/acme/<directory host + hash>/account.key
//   STATE/certificates/<host name>/cert.pem, key.pem

import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface StoredCertificate {
  /** The chain, leaf first (PEM). */
  cert: string;
  key: string;
}

export class CertificateStore {
  constructor(private readonly dir: string) {}

  /** The account key for `directoryUrl`, made by `create` the first time. */
  async accountKey(directoryUrl: string, create: () => Promise<string>): Promise<string> {
    const url = new URL(directoryUrl);
    const hash = createHash('sha256').update(directoryUrl).digest('hex').slice(0, 12);
    const file = path.join(this.dir, 'acme', `${url.host.replace(/[^\w.-]/g, '_')}-${hash}`, 'account.key');
    const existing = readOrNull(file);
    if (existing) return existing;
    const key = await create();
    writePrivate(this.dir, file, key);
    return key;
  }

  /** The stored certificate for `name`, or null. */
  load(name: string): StoredCertificate | null {
    const folder = this.folderOf(name);
    const cert = readOrNull(path.join(folder, 'cert.pem'));
    const key = readOrNull(path.join(folder, 'key.pem'));
    return cert && key ? { cert, key } : null;
  }

  /** Stores `name`'s certificate; the key first, so a cert on disk always has its key. */
  save(name: string, stored: StoredCertificate): void {
    const folder = this.folderOf(name);
    writePrivate(this.dir, path.join(folder, 'key.pem.next'), stored.key);
    writePrivate(this.dir, path.join(folder, 'cert.pem.next'), stored.cert);
    renameSync(path.join(folder, 'key.pem.next'), path.join(folder, 'key.pem'));
    renameSync(path.join(folder, 'cert.pem.next'), path.join(folder, 'cert.pem'));
  }

  private folderOf(name: string): string {
    if (!/^[a-z0-9.-]+$/i.test(name) || name.startsWith('.')) throw new Error(`not a host name: ${name}`);
    return path.join(this.dir, 'certificates', name.toLowerCase());
  }
}

function readOrNull(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Writes `text` to `file` (0600) under `root`, the folders between made or set 0700 (mkdir obeys the umask, and a folder may exist). */
function writePrivate(root: string, file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  for (let dir = path.dirname(file); dir.startsWith(root); dir = path.dirname(dir)) chmodSync(dir, 0o700);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}
