// The HTTPS settings: certificates from files or obtained by ACME (tls:
// auto), the plain-HTTP port beside HTTPS, and where ACME keeps its state.
// Kept apart from ./settings.ts, which spreads them into the one table.
import { homedir } from 'node:os';
import path from 'node:path';
import {
  boolean,
  InvalidValue,
  integer,
  OPTIONAL_FILE,
  oneOf,
  optionalFile,
  seconds,
  type ValueContext,
} from './setting-parsers.js';
import type { Entry } from './setting.js';

export interface TlsSettingValues {
  tls: 'off' | 'auto';
  httpPort: number;
  redirectHttp: boolean;
  acmeDirectory: string;
  acmeEmail: string;
  acmeCa: string;
  acmeRenewBefore: number;
  stateDir: string;
}

export const LETS_ENCRYPT = 'https://acme-v02.api.letsencrypt.org/directory';

const STATE_HOME = process.env.XDG_STATE_HOME || path.join(homedir(), '.local', 'state');
const FOLDER_PATH = 'a folder path (made if missing)';

/** A folder that need not exist yet, resolved against ctx.base. */
function folderPath(raw: unknown, ctx: ValueContext): string {
  if (typeof raw !== 'string' || raw.trim() === '') throw new InvalidValue(FOLDER_PATH, raw);
  return path.resolve(ctx.base, raw.trim());
}

function httpsUrl(raw: unknown): string {
  if (typeof raw === 'string' && /^https?:\/\/[^\s/]+(\/\S*)?$/.test(raw.trim())) return raw.trim();
  throw new InvalidValue('an http(s) URL', raw);
}

function email(raw: unknown): string {
  if (typeof raw === 'string' && (raw.trim() === '' || /^[^\s@]+@[^\s@]+$/.test(raw.trim()))) return raw.trim();
  throw new InvalidValue('an e-mail address, or "" for none', raw);
}

// biome-ignore format: one setting per entry, its fields on the lines a reader scans
export const TLS_ENTRIES: { readonly [K in keyof TlsSettingValues]: Entry<TlsSettingValues[K]> } = {
  tls: {
    metavar: 'MODE', default: 'off', defaultText: 'off (HTTPS from cert and key when they are given)',
    allowed: '"off" or "auto"', parse: oneOf('off', 'auto'),
    help: 'auto: obtain and renew a certificate for every site host name from the ACME CA at acme-directory (HTTP-01 on http-port), served on port by SNI with HTTP/2. off: plain HTTP, or HTTPS (and HTTP/2) from cert and key.',
  },
  httpPort: {
    metavar: 'N', default: 80, defaultText: '80',
    allowed: 'an integer from 0 to 65535', parse: integer(0, 65535),
    help: 'With HTTPS: the plain-HTTP port, opened when tls is auto (ACME\'s HTTP-01 challenges are answered there) or redirect-http is on. It serves the sites over HTTP unless redirect-http.',
  },
  redirectHttp: {
    metavar: null, default: false, defaultText: 'false',
    allowed: 'true or false', parse: boolean,
    help: 'With HTTPS: answer every request on http-port with a 308 to the same URL over HTTPS (ACME challenges excepted).',
  },
  acmeDirectory: {
    metavar: 'URL', default: LETS_ENCRYPT, defaultText: 'Let\'s Encrypt',
    allowed: 'an http(s) URL', parse: httpsUrl,
    help: 'The ACME directory URL of the CA that issues certificates for tls: auto.',
  },
  acmeEmail: {
    metavar: 'ADDR', default: '', defaultText: 'none',
    allowed: 'an e-mail address, or "" for none', parse: email,
    help: 'Contact address of the ACME account (the CA writes about expiring certificates and policy changes).',
  },
  acmeCa: {
    metavar: 'FILE', default: '', defaultText: 'the system\'s',
    allowed: OPTIONAL_FILE, parse: optionalFile,
    help: 'PEM certificates to trust for the ACME directory\'s HTTPS, for a private or test CA.',
  },
  acmeRenewBefore: {
    metavar: 'SECONDS', default: 30 * 86400, defaultText: '2592000 (30 days)',
    allowed: 'a number of seconds from 60 to 315360000', parse: seconds(60, 315360000),
    help: 'Renew a certificate this long before it expires; renewal happens while serving, without a restart.',
  },
  stateDir: {
    metavar: 'DIR', default: path.join(STATE_HOME, 'pypages'), defaultText: '$XDG_STATE_HOME/pypages or ~/.local/state/pypages',
    allowed: FOLDER_PATH, parse: folderPath,
    help: 'Where tls: auto keeps its ACME account key, certificates and their keys (folders 0700, keys 0600).',
  },
};
