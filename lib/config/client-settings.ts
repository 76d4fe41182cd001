// The settings of a client's connection: how large and how many header
// fields, how long it may stay silent or idle, whose forwarding headers are
// believed, and the certificate files. Kept apart from ./settings.ts, which
// spreads them into the one table in this order.
// biome-ignore format: the parsers and their names, packed as the table below uses them
import { ADDRESSES, addressList, integer, OPTIONAL_FILE, optionalFile, seconds, size } from './setting-parsers.js';
import type { Entry } from './setting.js';

export interface ClientSettingValues {
  maxHeaderSize: number;
  maxHeaderFields: number;
  clientTimeout: number;
  keepAliveTimeout: number;
  trustProxy: readonly string[];
  cert: string;
  key: string;
}

// biome-ignore format: one setting per entry, its fields on the lines a reader scans
export const CLIENT_ENTRIES: { readonly [K in keyof ClientSettingValues]: Entry<ClientSettingValues[K]> } = {
  maxHeaderSize: {
    metavar: 'SIZE', default: 16384, defaultText: '16K',
    allowed: 'a size in bytes from 1024 to 1048576 (suffix K, M or G allowed)', parse: size(1024, 1024 ** 2),
    help: 'Largest request head (request line and headers); larger gets 431.',
  },
  maxHeaderFields: {
    metavar: 'N', default: 100, defaultText: '100',
    allowed: 'an integer from 1 to 2000', parse: integer(1, 2000),
    help: 'Most header fields in a request head (as Apache\'s LimitRequestFields); more gets 431 before any page or file is reached.',
  },
  clientTimeout: {
    metavar: 'SECONDS', default: 60, defaultText: '60',
    allowed: 'a number of seconds from 1 to 3600', parse: seconds(1, 3600),
    help: 'How long a client may stay silent (as Apache\'s Timeout): a request head not complete in time gets 408; a body that sends nothing for this long gets 408 (or a closed connection if the answer started) and the page\'s read fails; a client that reads nothing of its answer for this long is disconnected. Counts time between bytes, so slow but moving transfers are never cut.',
  },
  keepAliveTimeout: {
    metavar: 'SECONDS', default: 5, defaultText: '5',
    allowed: 'a number of seconds from 0 to 3600', parse: seconds(0, 3600),
    help: 'How long an idle keep-alive connection is kept open waiting for the next request (0: close after each response).',
  },
  trustProxy: {
    metavar: 'ADDRS', default: Object.freeze([]), defaultText: 'none',
    allowed: ADDRESSES, parse: addressList,
    help: 'Proxies whose X-Forwarded-For/-Proto/-Host and Forwarded headers are believed; from anyone else they are ignored.',
  },
  cert: {
    metavar: 'FILE', default: '', defaultText: 'none',
    allowed: OPTIONAL_FILE, parse: optionalFile,
    help: 'TLS certificate (PEM) to serve HTTPS; needs key.',
  },
  key: {
    metavar: 'FILE', default: '', defaultText: 'none',
    allowed: OPTIONAL_FILE, parse: optionalFile,
    help: 'TLS private key (PEM) for cert.',
  },
};
