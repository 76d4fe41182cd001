import { describe, expect, it } from 'vitest';
import { buildEnviron, type RequestFacts } from '../../../lib/http/environ.js';

const script = { file: '/srv/www/app.py', scriptName: '/app.py', pathInfo: '/x', root: '/srv/www' };
const request = (over: Partial<RequestFacts> = {}): RequestFacts => ({
  method: 'GET',
  rawUrl: '/app.py/x?a=1',
  httpVersion: '1.1',
  rawHeaders: ['Host', 'example.test:8080'],
  remoteAddress: '::ffff:192.0.2.7',
  remotePort: 51234,
  localAddress: '::ffff:127.0.0.1',
  localPort: 8000,
  secure: false,
  ...over,
});

describe('buildEnviron', () => {
  it('sets the CGI variables', () => {
    expect(buildEnviron(request(), script)).toMatchObject({
      REQUEST_METHOD: 'GET',
      SCRIPT_NAME: '/app.py',
      PATH_INFO: '/x',
      QUERY_STRING: 'a=1',
      REQUEST_URI: '/app.py/x?a=1',
      SERVER_PROTOCOL: 'HTTP/1.1',
      SERVER_NAME: 'example.test',
      SERVER_PORT: '8000',
      REMOTE_ADDR: '192.0.2.7',
      REMOTE_PORT: '51234',
      SCRIPT_FILENAME: '/srv/www/app.py',
      DOCUMENT_ROOT: '/srv/www',
      HTTP_HOST: 'example.test:8080',
      GATEWAY_INTERFACE: 'CGI/1.1',
      'wsgi.url_scheme': 'http',
    });
  });

  it('gives an empty QUERY_STRING when there is none, and keeps a raw one verbatim', () => {
    expect(buildEnviron(request({ rawUrl: '/app.py' }), script).QUERY_STRING).toBe('');
    expect(buildEnviron(request({ rawUrl: '/app.py?a=%20b?c' }), script).QUERY_STRING).toBe('a=%20b?c');
  });

  it('maps Content-Type and Content-Length without the HTTP_ prefix, never both', () => {
    const env = buildEnviron(request({ rawHeaders: ['Content-Type', 'text/plain', 'content-length', '5'] }), script);
    expect(env.CONTENT_TYPE).toBe('text/plain');
    expect(env.CONTENT_LENGTH).toBe('5');
    expect(env).not.toHaveProperty('HTTP_CONTENT_TYPE');
    expect(env).not.toHaveProperty('HTTP_CONTENT_LENGTH');
  });

  it('drops header names containing "_" (no spoofing of X-Forwarded-For)', () => {
    const env = buildEnviron(
      request({ rawHeaders: ['X_Forwarded_For', '6.6.6.6', 'X-Forwarded-For', '10.0.0.1'] }),
      script,
    );
    expect(env.HTTP_X_FORWARDED_FOR).toBe('10.0.0.1');
  });

  it('joins repeated headers with ", " and cookies with "; "', () => {
    const env = buildEnviron(
      request({ rawHeaders: ['Accept', 'a', 'accept', 'b', 'Cookie', 'x=1', 'Cookie', 'y=2'] }),
      script,
    );
    expect(env.HTTP_ACCEPT).toBe('a, b');
    expect(env.HTTP_COOKIE).toBe('x=1; y=2');
  });

  it('keeps latin-1 header values as code points 0-255', () => {
    expect(buildEnviron(request({ rawHeaders: ['X-Name', 'caf\u00e9'] }), script).HTTP_X_NAME).toBe('caf\u00e9');
  });

  it('marks HTTPS requests', () => {
    const env = buildEnviron(request({ secure: true }), script);
    expect(env.HTTPS).toBe('on');
    expect(env['wsgi.url_scheme']).toBe('https');
    expect(buildEnviron(request(), script)).not.toHaveProperty('HTTPS');
  });

  it('takes SERVER_NAME from the Host header, IPv6 literals included, else the local address', () => {
    expect(buildEnviron(request({ rawHeaders: ['Host', '[::1]:8000'] }), script).SERVER_NAME).toBe('[::1]');
    expect(buildEnviron(request({ rawHeaders: ['Host', 'plain'] }), script).SERVER_NAME).toBe('plain');
    expect(buildEnviron(request({ rawHeaders: [] }), script).SERVER_NAME).toBe('127.0.0.1');
  });

  it("takes SERVER_NAME and DOCUMENT_ROOT from the request's site when it names itself", () => {
    const env = buildEnviron(request(), { ...script, root: '/srv/alice', serverName: 'alice.example' });
    expect(env).toMatchObject({
      SERVER_NAME: 'alice.example',
      DOCUMENT_ROOT: '/srv/alice',
      HTTP_HOST: 'example.test:8080',
    });
    expect(buildEnviron(request(), { ...script, serverName: null }).SERVER_NAME).toBe('example.test');
  });

  it('reports the HTTP version', () => {
    expect(buildEnviron(request({ httpVersion: '1.0' }), script).SERVER_PROTOCOL).toBe('HTTP/1.0');
  });
});

describe('buildEnviron over HTTP/2', () => {
  const script = { file: '/srv/app.py', scriptName: '/app.py', pathInfo: '', root: '/srv' };
  const h2 = (rawHeaders: string[]) =>
    buildEnviron(
      {
        method: 'GET',
        rawUrl: '/app.py',
        httpVersion: '2.0',
        rawHeaders,
        remoteAddress: '127.0.0.1',
        remotePort: 5000,
        localAddress: '127.0.0.1',
        localPort: 8443,
        secure: true,
      },
      script,
    );

  it('says SERVER_PROTOCOL HTTP/2, takes the Host from :authority and leaves the pseudo-headers out', () => {
    const env = h2([':method', 'GET', ':path', '/app.py', ':scheme', 'https', ':authority', 'ex.com:8443', 'x-a', '1']);
    expect(env.SERVER_PROTOCOL).toBe('HTTP/2');
    expect([env.HTTP_HOST, env.SERVER_NAME, env.HTTP_X_A]).toEqual(['ex.com:8443', 'ex.com', '1']);
    expect(Object.keys(env).filter((k) => k.includes(':'))).toEqual([]);
  });
});
