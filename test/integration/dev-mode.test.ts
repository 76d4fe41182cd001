// Development mode over HTTP with real Python: error pages a student learns
// from (HTML, or text), hostile values shown as text, 404s of files that
// exist explained in the log and on the page, a page's output labelled by
// stream, and help for missing modules. Fixture pages: test/fixtures/dev/.
import { cpSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAUNCHES, rawRequest, serveTempRoot, type TestServer, waitFor } from '../helpers.js';

const FIXTURES = new URL('../fixtures/dev/', import.meta.url).pathname;
const HTML = { headers: { Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } };

/** GET with a Host header of our choosing (fetch sets its own). */
function getWithHost(port: number, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', path, headers: { Host: host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function serveDev(overrides = {}): Promise<TestServer> {
  return serveTempRoot(
    (root) => {
      cpSync(FIXTURES, root, { recursive: true });
      writeFileSync(join(root, 'compiled.pyc'), 'not served');
      writeFileSync(
        join(root, 'form_boom.py'),
        'def application(environ, start_response):\n    body = environ["wsgi.input"].read()\n    raise ValueError("bad form")\n',
      );
    },
    { dev: true, ...overrides },
  );
}

describe('development mode: error pages', () => {
  let s: TestServer;
  beforeAll(async () => void (s = await serveDev()));
  afterAll(() => s?.stop());

  it('shows the exception, the author frames first with source, the line marked and locals, and the request id', async () => {
    const res = await s.get('/boom.py', HTML);
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await res.text();
    expect(html).toContain('<h1 class="exception">ZeroDivisionError: division by zero</h1>');
    expect(html).toContain('<p class="where">boom.py, line 9, in <code>helper</code></p>');
    expect(html).toMatch(
      /<div class="frame user innermost"><p class="frame-head">boom.py, line 9, in <code>helper<\/code>/,
    );
    expect(html).toContain('<mark class="current"><span class="num">9</span>    return n / 0</mark>');
    expect(html).toContain('<tr><th>n</th><td><code>3</code></td></tr>');
    expect(html).toMatch(/Request id: <code>[0-9a-f]+-\w+<\/code>\. The same traceback is in the terminal/);
    expect(html).not.toContain('pypages_worker');
    expect(html).toContain('<tr><th>start_response</th><td><code>&lt;start_response, given by pypages&gt;</code>');
    expect(s.log.errors.join('\n')).toContain('ZeroDivisionError: division by zero');
  });

  it('shows the form fields the page read from a POST, escaped', async () => {
    const form = 'name=Ada+Lovelace&note=%3Cscript%3Ealert(3)%3C%2Fscript%3E&blank=';
    const headers = `Accept: text/html\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${form.length}\r\n`;
    const res = await rawRequest(s.port, 'POST', '/form_boom.py', headers, form);
    const html = res.body.toString();
    expect(res.status).toBe(500);
    expect(html).toContain('<summary>Form fields the page read (3)</summary>');
    expect(html).toContain('<tr><th>name</th><td>&#39;Ada Lovelace&#39;</td></tr>');
    expect(html).toContain('<tr><th>note</th><td>&#39;&lt;script&gt;alert(3)&lt;/script&gt;&#39;</td></tr>');
    expect(html).not.toMatch(/<script>alert/);
  });

  it('shows the multipart fields the page read, and an uploaded file only by its name and size', async () => {
    const part = (disposition: string, value: string) =>
      `--B0undary\r\nContent-Disposition: form-data; ${disposition}\r\n\r\n${value}\r\n`;
    const form = `${part('name="who"', '<b>Ada</b>')}${part('name="cv"; filename="cv.txt"', 'private words')}--B0undary--\r\n`;
    const headers = `Accept: text/html\r\nContent-Type: multipart/form-data; boundary=B0undary\r\nContent-Length: ${form.length}\r\n`;
    const res = await rawRequest(s.port, 'POST', '/form_boom.py', headers, form);
    const html = res.body.toString();
    expect(res.status).toBe(500);
    expect(html).toContain('<summary>Form fields the page read (2)</summary>');
    expect(html).toContain('<tr><th>who</th><td>&#39;&lt;b&gt;Ada&lt;/b&gt;&#39;</td></tr>');
    expect(html).toContain('<tr><th>cv</th><td>&lt;file &#39;cv.txt&#39;, 13 bytes&gt;</td></tr>');
    const formSection = html.slice(
      html.indexOf('<summary>Form fields'),
      html.indexOf('</table>', html.indexOf('<summary>Form fields')),
    );
    expect(formSection).not.toContain('private words'); // (the page's own local `body` holds them, and shows them)
  });

  it('escapes hostile values from the query string, a header and a local variable', async () => {
    const res = await rawRequest(
      s.port,
      'GET',
      '/boom.py?q=<script>alert(1)</script>',
      'Accept: text/html\r\nX-Evil: <script>alert(2)</script>\r\n',
    );
    const html = res.body.toString();
    expect(res.status).toBe(500);
    expect(html).not.toMatch(/<script>alert/);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;script&gt;alert(2)&lt;/script&gt;');
    expect(html).toContain('&lt;script&gt;alert(&#39;local&#39;)&lt;/script&gt;');
  });

  it('shows a syntax error with its caret, without the parser or pypages frames, logged once', async () => {
    const html = await (await s.get('/syntax_error.py', HTML)).text();
    expect(html).toContain('<section class="syntax"><h2>Syntax error in syntax_error.py, line 1</h2>');
    expect(html).toMatch(/<span class="caret"> +\^<\/span> expected &#39;:&#39;/);
    expect(html).not.toMatch(/ast\.py|pypages_worker|Traceback/);
    const logged = s.log.errors.join('\n');
    expect(logged.match(/File ".*syntax_error\.py", line 1/g)).toHaveLength(1);
  });

  it('answers plain text to a client that does not ask for HTML', async () => {
    const res = await s.get('/boom.py');
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const text = await res.text();
    expect(text).toContain('ZeroDivisionError: division by zero\n  at boom.py, line 9, in helper');
    expect(text).toContain('  n = 3');
    expect(text).toMatch(/Request id: \S+\. The same traceback is in the terminal/);
  });

  it('points at the line of a body made of str, with the fix', async () => {
    const text = await (await s.get('/str_body.py')).text();
    expect(text).toContain('response body chunks must be bytes, not str: encode it');
    expect(text).toContain('at str_body.py, line 3, in application');
  });

  it('gives a request that came through a proxy the short page', async () => {
    const text = await (await s.get('/boom.py', { headers: { 'X-Forwarded-For': '203.0.113.9' } })).text();
    expect(text).not.toMatch(/ZeroDivisionError|boom\.py/);
    expect(text).toContain('The details are in the server log, under this request id.');
  });
});

describe('development mode by default (dev: auto, on loopback)', () => {
  it('answers a loopback Host with the development page, any other Host with the short one', async () => {
    const s = await serveDev({ dev: 'auto' });
    try {
      expect(await (await s.get('/boom.py')).text()).toContain('at boom.py, line 9, in helper');
      const other = await getWithHost(s.port, '/boom.py', 'example.org');
      expect(other.status).toBe(500);
      expect(other.body).not.toMatch(/ZeroDivisionError|boom\.py/);
    } finally {
      await s.stop();
    }
  });
});

describe('outside development mode', () => {
  it('keeps the page short and says where the details are', async () => {
    const s = await serveDev({ dev: false });
    try {
      const res = await s.get('/boom.py', HTML);
      const text = await res.text();
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(text).not.toMatch(/ZeroDivisionError|helper|boom\.py/);
      expect(text).toMatch(/Request id: \S+\nThe details are in the server log, under this request id\./);
      expect((await (await s.get('/needs_helper.py')).text()).includes('lib/helper.py')).toBe(false);
    } finally {
      await s.stop();
    }
  });
});

describe('development mode: never silent about a 404 for a file that exists', () => {
  let s: TestServer;
  beforeAll(async () => void (s = await serveDev()));
  afterAll(() => s?.stop());

  const logFor = async (path: string) => {
    const page = await (await s.get(path, HTML)).text();
    const line = await waitFor(() => s.log.errors.find((l) => l.includes(`GET ${path} → 404`)), path);
    return { page, line };
  };

  it.each([
    ['/flask_app_named_app.py', 'add `application = app`', 'is a Flask app here'],
    ['/cgi_style.py', 'prints its page like a CGI script', 'WSGI `application'],
    ['/capital.py', 'names are case-sensitive', '`Application` is defined'],
    ['/compiled.pyc', 'python artefact', 'never served'],
  ])('%s: the log and the page say why, with a hint', async (path, reason, hint) => {
    const { page, line } = await logFor(path);
    for (const text of [reason, hint]) {
      expect(line).toContain(text);
      expect(page).toContain(text.replaceAll("'", '&#39;'));
    }
  });

  it('keeps the reason when the answer is remembered', async () => {
    await s.get('/flask_app_named_app.py');
    const again = await (await s.get('/flask_app_named_app.py')).text();
    expect(again).toContain('add `application = app`');
  });

  it('says nothing for a name that does not exist', async () => {
    const before = s.log.errors.length;
    expect((await s.get('/no_such_page.py')).status).toBe(404);
    expect((await s.get('/no_such.pyc')).status).toBe(404);
    await s.get('/boom.py'); // a request after them, logged: theirs would be before it
    await waitFor(() => s.log.errors.length > before, 'the boom line');
    expect(s.log.errors.slice(before).join('\n')).not.toMatch(/no_such/);
  });
});

describe('development mode: help for a missing module', () => {
  let s: TestServer;
  beforeAll(async () => void (s = await serveDev()));
  afterAll(() => s?.stop());

  it('a same-named file in the site: its import path, never pip', async () => {
    const text = await (await s.get('/needs_helper.py')).text();
    expect(text).toContain("'helper' is a file in your site ('lib/helper.py'), not a package to install");
    expect(text).toContain('--python-path lib');
    expect(text).not.toContain('pip install');
  });

  it('a known import name: the interpreter and its distribution', async () => {
    const text = await (await s.get('/needs_bs4.py')).text();
    expect(text).toMatch(/\(\/\S+python3?[\d.]*\) cannot find/);
    expect(text).toMatch(/\/\S+ -m pip install beautifulsoup4|This Python has no pip/);
  });

  it('an unknown name: generic, with no invented package name', async () => {
    const text = await (await s.get('/needs_unknown.py')).text();
    expect(text).toContain("check the package's own documentation first");
    expect(text).not.toMatch(/python3-requests|apt/);
    expect(s.log.errors.join('\n')).toContain("The page imports 'requests_not_there_pypages'");
  });
});

/** Whether process `pid` was forked by a fork server (not spawned by Node). */
function forkedWorker(pid: number): boolean {
  const parent = readFileSync(`/proc/${pid}/stat`, 'latin1')
    .replace(/^.*\) /s, '')
    .split(' ')[1];
  return readFileSync(`/proc/${parent}/cmdline`, 'latin1').includes('pypages_worker.forkserver');
}

describe.each(LAUNCHES)('development mode: page output in the terminal (%s)', (launch) => {
  let s: TestServer;
  beforeAll(async () => void (s = await serveDev({ launch })));
  afterAll(() => s?.stop());

  /** The lines of one run of printer.py by a worker launched as `launch` says (a worker started while the fork server warms up is spawned: the script is touched until one is forked). */
  async function printerLines(): Promise<string[]> {
    for (let attempt = 0; ; attempt++) {
      s.log.outputs.length = 0;
      expect(await (await s.get('/printer.py')).text()).toBe('printed');
      const last = await waitFor(() => s.log.outputs.find((l) => l.includes('Your name?')), 'the prompt');
      const pid = Number(/pid (\d+)/.exec(last)![1]);
      if (launch === 'spawn' || forkedWorker(pid) || attempt === 20)
        return s.log.outputs.filter((l) => l.includes(`pid ${pid}]`));
      const later = new Date(Date.now() + 1000 * (attempt + 1));
      utimesSync(join(s.root, 'printer.py'), later, later); // a new worker for the next request
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it('labels print() [out] and stderr [err], and shows a prompt without its newline', async () => {
    const lines = await printerLines();
    expect(lines.find((l) => l.includes('hello from print'))).toMatch(
      /^\[out\] \[printer\.py pid \d+\] hello from print$/,
    );
    expect(lines.find((l) => l.includes('oops on stderr'))).toMatch(/^\[err\] \[printer\.py pid \d+\] oops on stderr$/);
    expect(lines.find((l) => l.includes('Your name?'))).toMatch(/^\[out\] \[printer\.py pid \d+\] Your name\? $/);
    if (launch === 'fork') expect(forkedWorker(Number(/pid (\d+)/.exec(lines[0])![1]))).toBe(true);
  });
});
