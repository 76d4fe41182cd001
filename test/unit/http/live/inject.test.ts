// The live-reload script's decision (refusal: status, type, encoding, CSP)
// and its placement, on a real node:http response written every way Node
// allows (writeHead with an object, a flat array or pairs; implicit head;
// write with an encoding; end with a callback), read back as raw bytes.
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { cspForbids } from '../../../../lib/http/live/csp.js';
import { injectInto, refusal } from '../../../../lib/http/live/inject.js';
import { rawRequest } from '../../../helpers.js';

const S = '<script>x</script>';
const html = (extra: [string, string][] = [], status = 200) => ({
  status,
  headers: [['content-type', 'text/html; charset=utf-8'] as [string, string], ...extra],
});

describe('refusal', () => {
  it('takes HTML documents and error pages', () => {
    expect(refusal(html())).toBeNull();
    expect(refusal(html([], 500))).toBeNull();
    expect(refusal({ status: 200, headers: [['content-type', 'application/xhtml+xml']] })).toBeNull();
  });

  it('quietly leaves other answers alone', () => {
    for (const status of [101, 204, 206, 301, 304]) expect(refusal(html([], status))).toBe('');
    expect(refusal({ status: 200, headers: [['content-type', 'text/plain']] })).toBe('');
    expect(refusal({ status: 200, headers: [] })).toBe('');
    expect(refusal(html([['content-encoding', 'gzip']]))).toBe('');
    expect(refusal({ status: 200, headers: [['content-type', 'text/html; charset=UTF-16']] })).toBe('');
  });

  it('says why when a Content-Security-Policy forbids it', () => {
    expect(refusal(html([['content-security-policy', "script-src 'self'"]]))).toMatch(/script-src/);
  });
});

describe('cspForbids', () => {
  it.each([
    ["default-src 'self'", /default-src\) forbids inline/],
    ["script-src 'unsafe-inline' 'nonce-abc'", /script-src/],
    ["script-src 'unsafe-inline' 'strict-dynamic'", /script-src/],
    ["script-src-elem 'self'; script-src 'unsafe-inline'", /script-src-elem/],
    ["script-src 'unsafe-inline'; connect-src https://api.example", /connect-src\) forbids connecting/],
    ["img-src *, script-src 'self'", /script-src/],
  ])('forbids under %s', (policy, why) => expect(cspForbids([policy])).toMatch(why));

  it.each([
    "script-src 'self' 'unsafe-inline'",
    "default-src 'self' 'unsafe-inline'",
    "img-src 'self'; frame-ancestors 'none'",
    "SCRIPT-SRC 'UNSAFE-INLINE'",
  ])('allows %s', (policy) => expect(cspForbids([policy])).toBeNull());

  it('requires every policy to allow it', () => {
    expect(cspForbids(["script-src 'unsafe-inline'", "script-src 'self'"])).not.toBeNull();
  });
});

/** Serves one answer written by `write` into a response with the script added; the raw response. */
async function served(write: (res: ServerResponse) => void) {
  const server = createServer((_req, res) => {
    injectInto(res, S, () => {});
    write(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    return await rawRequest((server.address() as AddressInfo).port, 'GET', '/');
  } finally {
    server.close();
  }
}

describe('injectInto', () => {
  it('grows Content-Length set by setHeader, and puts the script before </body>', async () => {
    const res = await served((r) => {
      const body = '<html><body>hi</body></html>';
      r.setHeader('Content-Type', 'text/html');
      r.setHeader('Content-Length', Buffer.byteLength(body));
      r.end(body);
    });
    expect(res.body.toString()).toBe(`<html><body>hi${S}</body></html>`);
    expect(Number(res.headers['content-length'])).toBe(res.body.length);
  });

  it('reads and grows headers given to writeHead as a flat array, and pairs', async () => {
    const flat = await served((r) => {
      r.writeHead(200, ['Content-Type', 'text/html', 'Content-Length', '9'] as unknown as string[]);
      r.end('<p>hi</p>');
    });
    expect(flat.body.toString()).toBe(`<p>hi</p>${S}`);
    expect(Number(flat.headers['content-length'])).toBe(flat.body.length);
    const pairs = await served((r) => {
      r.writeHead(200, 'OK', [
        ['Content-Type', 'text/html'],
        ['Content-Length', '9'],
      ] as unknown as string[]);
      r.end('<p>hi</p>');
    });
    expect(pairs.body.toString()).toBe(`<p>hi</p>${S}`);
  });

  it('looks at pieces written with an encoding, and only the first </body> gets it', async () => {
    const res = await served((r) => {
      r.setHeader('Content-Type', 'text/html');
      r.write('3c703e', 'hex');
      r.write('</body>');
      r.end('</body>', () => {});
    });
    expect(res.body.toString()).toBe(`<p>${S}</body></body>`);
  });

  it('leaves a text answer and a CSP-forbidden page exactly as written', async () => {
    const text = await served((r) => {
      r.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '7' });
      r.end('</body>');
    });
    expect(text.body.toString()).toBe('</body>');
    const csp = await served((r) => {
      r.writeHead(200, { 'Content-Type': 'text/html', 'Content-Security-Policy': "default-src 'none'" });
      r.end('<body></body>');
    });
    expect(csp.body.toString()).toBe('<body></body>');
  });
});
