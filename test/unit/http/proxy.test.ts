// lib/http/proxy.ts: trust lists (CIDR, IPv4, IPv6, IPv4-mapped), RFC 7239
// parsing, and which forwarded values are believed from which peer.
import { describe, expect, it } from 'vitest';
import { clientView, parseForwarded, parseNode, trustList, type PeerFacts } from '../../../lib/http/proxy.js';

describe('trustList', () => {
  const cases: [string[], string, boolean][] = [
    [['10.0.0.1'], '10.0.0.1', true],
    [['10.0.0.1'], '10.0.0.2', false],
    [['10.0.0.0/8'], '10.255.1.2', true],
    [['10.0.0.0/8'], '11.0.0.1', false],
    [['192.168.2.0/23'], '192.168.3.200', true], // prefix not on a byte boundary
    [['192.168.2.0/23'], '192.168.4.1', false],
    [['0.0.0.0/0'], '8.8.8.8', true],
    [['0.0.0.0/0'], '::1', false], // an IPv4 block never matches an IPv6 address
    [['::1'], '::1', true],
    [['::1'], '0:0:0:0:0:0:0:1', true],
    [['::1'], '::2', false],
    [['fd00::/8'], 'fd12:3456::1', true],
    [['fd00::/8'], 'fe80::1', false],
    [['2001:db8::/32'], '2001:db8:ffff::1', true],
    [['2001:db8::/33'], '2001:db8:8000::1', false],
    [['fe80::/10'], 'fe80::1%eth0', true], // zone id ignored
    [['10.0.0.0/8'], '::ffff:10.1.2.3', true], // IPv4-mapped peer, as Node reports on a dual-stack socket
    [['127.0.0.1'], '::ffff:127.0.0.1', true],
    [['::ffff:10.0.0.0/104'], '10.9.9.9', true], // IPv4-mapped block = 10.0.0.0/8
    [['::ffff:127.0.0.1'], '127.0.0.1', true],
    [['10.0.0.1', '::1'], '::1', true],
    [[], '127.0.0.1', false],
    [['10.0.0.0/8'], 'unknown', false],
    [['10.0.0.0/8'], '', false],
  ];
  for (const [entries, address, expected] of cases) {
    it(`${JSON.stringify(entries)} ${expected ? 'trusts' : 'does not trust'} ${address || '""'}`, () => {
      expect(trustList(entries)(address)).toBe(expected);
    });
  }

  for (const bad of [
    '10.0.0.0/33',
    '::1/129',
    '10.0.0.0/8/1',
    '10.0.0.0/x',
    '10.0.0/8',
    'localhost',
    '',
    '1.2.3.4 5',
  ]) {
    it(`rejects ${JSON.stringify(bad)}`, () => {
      expect(() => trustList([bad])).toThrow(/not an IP address or CIDR block/);
    });
  }
});

describe('parseForwarded (RFC 7239)', () => {
  const cases: [string, Record<string, string>[] | null][] = [
    ['for="_gazonk"', [{ for: '_gazonk' }]],
    ['For="[2001:db8:cafe::17]:4711"', [{ for: '[2001:db8:cafe::17]:4711' }]],
    ['for=192.0.2.60;proto=http;by=203.0.113.43', [{ for: '192.0.2.60', proto: 'http', by: '203.0.113.43' }]],
    ['for=192.0.2.43, for=198.51.100.17', [{ for: '192.0.2.43' }, { for: '198.51.100.17' }]],
    [
      'for=192.0.2.43,for="[2001:db8:cafe::17]",for=unknown',
      [{ for: '192.0.2.43' }, { for: '[2001:db8:cafe::17]' }, { for: 'unknown' }],
    ],
    ['for="a\\"b,c;d";proto=https', [{ for: 'a"b,c;d', proto: 'https' }]], // commas and semicolons inside quotes
    ['for=1.2.3.4 ; proto=https , for=5.6.7.8', [{ for: '1.2.3.4', proto: 'https' }, { for: '5.6.7.8' }]],
    ['for=1.2.3.4, , for=5.6.7.8', [{ for: '1.2.3.4' }, { for: '5.6.7.8' }]],
    ['host="example.com:8443";PROTO=HTTPS', [{ host: 'example.com:8443', proto: 'HTTPS' }]],
    ['for=', null],
    ['for="unterminated', null],
    ['for=1.2.3.4;for=5.6.7.8', null], // a parameter twice in one element
    ['garbage', null],
    ['for=[::1]', null], // an IPv6 node must be quoted: "[" is not a token character
    ['=1.2.3.4', null],
  ];
  for (const [value, expected] of cases) {
    it(JSON.stringify(value), () => expect(parseForwarded(value)).toEqual(expected));
  }
});

describe('parseNode', () => {
  const cases: [string, { address: string; port: number | null } | null][] = [
    ['192.0.2.1', { address: '192.0.2.1', port: null }],
    ['192.0.2.1:8080', { address: '192.0.2.1', port: 8080 }],
    ['[2001:db8::1]', { address: '2001:db8::1', port: null }],
    ['[2001:db8::1]:4711', { address: '2001:db8::1', port: 4711 }],
    ['2001:db8::1', { address: '2001:db8::1', port: null }], // bare IPv6, as X-Forwarded-For carries it
    [' 10.0.0.1 ', { address: '10.0.0.1', port: null }],
    ['192.0.2.1:_abc', { address: '192.0.2.1', port: null }], // obfuscated port
    ['unknown', null],
    ['_hidden', null],
    ['[_hidden]', null],
    ['[192.0.2.1]', null],
    ['example.com', null],
    ['192.0.2.1:99999', { address: '192.0.2.1', port: null }],
  ];
  for (const [node, expected] of cases) {
    it(JSON.stringify(node), () => expect(parseNode(node)).toEqual(expected));
  }
});

describe('clientView', () => {
  const trust = trustList(['10.0.0.0/8', '::1']);
  const facts = (peer: string, headers: PeerFacts['headers'], secure = false): PeerFacts => ({
    peer,
    peerPort: 40000,
    secure,
    headers,
  });
  const direct = (peer: string, secure = false) => ({
    remoteAddr: peer,
    remotePort: 40000,
    secure,
    host: null,
    serverPort: null,
  });

  it('ignores every forwarding header from an untrusted peer', () => {
    const headers = {
      'x-forwarded-for': '1.2.3.4',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'evil.example',
      forwarded: 'for=1.2.3.4;proto=https',
    };
    expect(clientView(trust, facts('203.0.113.5', headers))).toEqual(direct('203.0.113.5'));
  });

  it('changes nothing for a trusted peer that sends no forwarding headers', () => {
    expect(clientView(trust, facts('10.0.0.2', {}, true))).toEqual(direct('10.0.0.2', true));
  });

  it('applies X-Forwarded-For/-Proto/-Host from a trusted peer', () => {
    const view = clientView(
      trust,
      facts('10.0.0.2', {
        'x-forwarded-for': '203.0.113.7',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'www.example.com',
      }),
    );
    expect(view).toEqual({
      remoteAddr: '203.0.113.7',
      remotePort: 40000,
      secure: true,
      host: 'www.example.com',
      serverPort: 443,
    });
  });

  it('trusts an IPv4-mapped peer through its IPv4 block', () => {
    expect(clientView(trust, facts('::ffff:10.1.1.1', { 'x-forwarded-for': '203.0.113.7' })).remoteAddr).toBe(
      '203.0.113.7',
    );
  });

  it('takes the rightmost untrusted hop of a chain: a spoofed leftmost entry is not believed', () => {
    const view = clientView(trust, facts('10.0.0.2', { 'x-forwarded-for': '6.6.6.6, 203.0.113.7, 10.0.0.9' }));
    expect(view.remoteAddr).toBe('203.0.113.7');
  });

  it('takes the leftmost hop when every hop is a trusted proxy', () => {
    expect(clientView(trust, facts('10.0.0.2', { 'x-forwarded-for': '10.0.0.8, 10.0.0.9' })).remoteAddr).toBe(
      '10.0.0.8',
    );
  });

  it('stops at the proxy that wrote an unknown or malformed hop', () => {
    expect(
      clientView(trust, facts('10.0.0.2', { 'x-forwarded-for': '203.0.113.7, garbage, 10.0.0.9' })).remoteAddr,
    ).toBe('10.0.0.9');
    expect(clientView(trust, facts('10.0.0.2', { 'x-forwarded-for': 'unknown' })).remoteAddr).toBe('10.0.0.2');
  });

  it('takes a port given with the forwarded address', () => {
    expect(clientView(trust, facts('10.0.0.2', { 'x-forwarded-for': '203.0.113.7:5555' }))).toMatchObject({
      remoteAddr: '203.0.113.7',
      remotePort: 5555,
    });
  });

  it('applies X-Forwarded-Proto and -Host without X-Forwarded-For', () => {
    const view = clientView(
      trust,
      facts('::1', { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'example.com:8443' }),
    );
    expect(view).toEqual({
      remoteAddr: '::1',
      remotePort: 40000,
      secure: true,
      host: 'example.com:8443',
      serverPort: 8443,
    });
  });

  it('reads per-hop proto and host lists aligned with X-Forwarded-For', () => {
    const headers = {
      'x-forwarded-for': '203.0.113.7, 10.0.0.9',
      'x-forwarded-proto': 'https, http',
      'x-forwarded-host': 'public.example, internal.example',
    };
    expect(clientView(trust, facts('10.0.0.2', headers))).toMatchObject({
      remoteAddr: '203.0.113.7',
      secure: true,
      host: 'public.example',
    });
  });

  it('lets X-Forwarded-Proto say http on a TLS connection from a trusted proxy', () => {
    expect(clientView(trust, facts('10.0.0.2', { 'x-forwarded-proto': 'http' }, true))).toMatchObject({
      secure: false,
      serverPort: 80,
    });
  });

  it('ignores a proto other than http/https and a host that is not a host', () => {
    const view = clientView(
      trust,
      facts('10.0.0.2', { 'x-forwarded-proto': 'gopher', 'x-forwarded-host': 'evil.example/path' }),
    );
    expect(view).toEqual(direct('10.0.0.2'));
    expect(clientView(trust, facts('10.0.0.2', { 'x-forwarded-host': 'a b' })).host).toBeNull();
  });

  it('prefers Forwarded over X-Forwarded-*', () => {
    const headers = {
      forwarded: 'for="[2001:db8::7]:4711";proto=https;host=www.example.com',
      'x-forwarded-for': '6.6.6.6',
      'x-forwarded-proto': 'http',
    };
    expect(clientView(trust, facts('10.0.0.2', headers))).toEqual({
      remoteAddr: '2001:db8::7',
      remotePort: 4711,
      secure: true,
      host: 'www.example.com',
      serverPort: 443,
    });
  });

  it('walks a Forwarded chain right to left, taking scheme and host from the hop believed', () => {
    const headers = {
      forwarded:
        'for=6.6.6.6;proto=http;host=spoof.example, for=203.0.113.7;proto=https;host=www.example.com, for=10.0.0.9;proto=http;host=inner',
    };
    expect(clientView(trust, facts('10.0.0.2', headers))).toMatchObject({
      remoteAddr: '203.0.113.7',
      secure: true,
      host: 'www.example.com',
    });
  });

  it('keeps the proxy as REMOTE_ADDR for an obfuscated Forwarded node, but takes its proto', () => {
    expect(clientView(trust, facts('10.0.0.2', { forwarded: 'for=_hidden;proto=https' }))).toMatchObject({
      remoteAddr: '10.0.0.2',
      secure: true,
    });
  });

  it('believes nothing of a malformed Forwarded header', () => {
    expect(clientView(trust, facts('10.0.0.2', { forwarded: 'for="203.0.113.7;proto=https' }))).toEqual(
      direct('10.0.0.2'),
    );
  });

  it('joins repeated headers as one list', () => {
    expect(clientView(trust, facts('10.0.0.2', { 'x-forwarded-for': ['203.0.113.7', '10.0.0.9'] })).remoteAddr).toBe(
      '203.0.113.7',
    );
  });
});
