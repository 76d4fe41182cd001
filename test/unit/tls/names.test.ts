import { describe, expect, it } from 'vitest';
import type { Site, Sites } from '../../../lib/site/site.js';
import { certificateNames } from '../../../lib/tls/names.js';

function sites(...hosts: (readonly string[] | undefined)[]): Sites {
  const all = hosts.map((h, i) => ({ name: `s${i}`, hosts: h }) as unknown as Site);
  return { all, fallback: all[0], siteFor: () => all[0] };
}

describe('certificateNames', () => {
  it.each<[string, Sites, string, { names: string[]; skipped: string[] }]>([
    [
      'one site without names: the host setting, when it is a name',
      sites(undefined),
      'Example.COM',
      { names: ['example.com'], skipped: [] },
    ],
    ['one site without names bound to an address: none', sites(undefined), '0.0.0.0', { names: [], skipped: [] }],
    ['an IPv6 address: none', sites(undefined), '::', { names: [], skipped: [] }],
    [
      "every site's names, each once, ports dropped",
      sites(['a.example', 'b.example:8443'], ['A.example', 'c.example']),
      '0.0.0.0',
      { names: ['a.example', 'b.example', 'c.example'], skipped: [] },
    ],
    [
      "sites' names win over the host setting",
      sites(['a.example']),
      'other.example',
      { names: ['a.example'], skipped: [] },
    ],
    [
      'wildcards are left out, and said so',
      sites(['*.example', 'www.example']),
      '0.0.0.0',
      { names: ['www.example'], skipped: ['*.example'] },
    ],
  ])('%s', (_, given, host, expected) => {
    expect(certificateNames(given, host)).toEqual(expected);
  });
});
