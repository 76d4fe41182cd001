// Which host names tls: auto holds certificates for: every site's names
// (HTTP-01 cannot prove a wildcard, so those are left out, and said so);
// when no site names any, the single site's name is the host setting, if it
// is a DNS name rather than an address.

import { isIP } from 'node:net';
import type { Sites } from '../site/site.js';

export interface CertificateNames {
  names: string[];
  /** Names that cannot have an HTTP-01 certificate (wildcards), for the log. */
  skipped: string[];
}

/** The names to obtain certificates for, lower-cased, each once, in site order. */
export function certificateNames(sites: Sites, host: string): CertificateNames {
  const all = sites.all.flatMap((site) => site.hosts ?? []).map((name) => name.toLowerCase().replace(/:\d+$/, ''));
  if (all.length === 0 && isIP(host) === 0 && host !== '') all.push(host.toLowerCase());
  const unique = [...new Set(all)];
  return { names: unique.filter((n) => !n.includes('*')), skipped: unique.filter((n) => n.includes('*')) };
}
