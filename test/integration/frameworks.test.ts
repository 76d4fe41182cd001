// Real frameworks, unmodified, as pages: the examples in www/examples/ served
// with Debian's /usr/bin/python3 and its python3-* packages. Each example is
// reached at sub-paths, so SCRIPT_NAME/PATH_INFO must be split right for the
// framework's routing and URL building to work. Every suite runs twice: on
// the example itself and on a copy wrapped in Werkzeug's LintMiddleware and
// wsgiref.validate (test/fixtures/frameworks/), which must report nothing.
//
// The packages are required: .ci/run installs them, and a missing one fails
// the first test with the list of what to install.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, removeDir, serveTempRoot, tempDir, type TestServer } from '../helpers.js';

const EXAMPLES = new URL('../../www/examples/', import.meta.url).pathname;
const CHECKED = new URL('../fixtures/frameworks/', import.meta.url).pathname;
const PYTHON = '/usr/bin/python3';
const MODULES = ['flask', 'django', 'bottle', 'webob', 'falcon', 'pyramid', 'werkzeug'];
const MARK = 'WSGI-VALIDATION-FAILURE';

/** The framework modules Debian's python3 cannot import (all of them if it is absent). */
function missingModules(): string[] {
  if (!existsSync(PYTHON)) return MODULES;
  const probe =
    'import importlib.util, sys\nprint(" ".join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))';
  const run = spawnSync(PYTHON, ['-c', probe, ...MODULES], { encoding: 'utf8' });
  return run.status === 0 ? run.stdout.split(/\s+/).filter(Boolean) : MODULES;
}

type Served = TestServer;

/** The examples at /examples/, the checked copies at /examples/checked/, on a temp root. */
function serveExamples(python?: string, trustProxy: string[] = []): Promise<Served> {
  return serveTempRoot(
    (root) => {
      cpSync(EXAMPLES, join(root, 'examples'), { recursive: true });
      cpSync(CHECKED, join(root, 'examples', 'checked'), { recursive: true });
    },
    { python, trustProxy },
  );
}

const missing = missingModules();
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const FORM_TYPE = { 'Content-Type': 'application/x-www-form-urlencoded' };

describe('framework packages', () => {
  it('are installed for /usr/bin/python3', () => {
    expect(missing, 'install the python3-* packages listed in .ci/run').toEqual([]);
  });
});

describe('frameworks on /usr/bin/python3', () => {
  let s: Served;
  // The test client (127.0.0.1) is a trusted proxy, so X-Forwarded-* apply when a test sends them.
  beforeAll(async () => (s = await serveExamples(PYTHON, ['127.0.0.1'])));
  afterAll(async () => {
    await s.stop();
    expect(s.log.errors.filter((line) => line.includes(MARK))).toEqual([]);
  });

  describe.each([['/examples'], ['/examples/checked']])('under %s', (prefix) => {
    describe('Flask', () => {
      const base = `${prefix}/flask_app.py`;

      it('routes PATH_INFO and builds URLs that include the script URL', async () => {
        expect(await (await s.get(`${base}/hello/Ada`)).text()).toBe('Hello, Ada!');
        expect(await (await s.get(`${base}/`)).text()).toContain(`href="${base}/hello/World"`);
      });

      it('answers JSON with relative and external url_for', async () => {
        const res = await s.get(`${base}/api/items`);
        expect(res.headers.get('content-type')).toBe('application/json');
        const body = await res.json();
        expect(body.items).toHaveLength(2);
        expect(body.url).toBe(`${base}/api/items`);
        expect(body.external_url).toBe(`http://127.0.0.1:${s.port}${base}/api/items`);
      });

      it('builds external URLs for the client behind a trusted proxy', async () => {
        const headers = { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'www.example.com' };
        const body = await (await s.get(`${base}/api/items`, { headers })).json();
        expect(body.external_url).toBe(`https://www.example.com${base}/api/items`);
      });

      it('redirects to a url_for URL', async () => {
        const res = await s.get(`${base}/go`);
        expect(res.status).toBe(302);
        expect(res.headers.get('location')).toBe(`${base}/hello/redirected`);
      });

      it('keeps a session in a cookie across requests', async () => {
        const first = await s.get(`${base}/visits`);
        expect(await first.json()).toEqual({ visits: 1 });
        const cookie = first.headers.getSetCookie()[0].split(';')[0];
        expect(cookie).toMatch(/^session=/);
        const second = await s.get(`${base}/visits`, { headers: { cookie } });
        expect(await second.json()).toEqual({ visits: 2 });
      });

      it('receives a file upload in request.files', async () => {
        const data = Buffer.from(Array.from({ length: 20_000 }, (_, i) => `row ${i}\n`).join(''));
        const body = new FormData();
        body.append('file', new Blob([data]), 'rows.txt');
        const res = await s.get(`${base}/upload`, { method: 'POST', body });
        expect(await res.json()).toEqual({ filename: 'rows.txt', size: data.length, sha256: sha(data) });
      });

      it('streams a generated response, chunked', async () => {
        const res = await rawRequest(s.port, 'GET', `${base}/stream`);
        expect(res.headers['transfer-encoding']).toBe('chunked');
        expect(res.body.toString()).toBe([1, 2, 3, 4, 5].map((i) => `line ${i} of 5\n`).join(''));
      });

      it("answers unknown paths with Flask's own 404", async () => {
        const res = await s.get(`${base}/nope`);
        expect(res.status).toBe(404);
        expect(await res.text()).toContain('<title>404 Not Found</title>');
      });
    });

    describe('Django', () => {
      const base = `${prefix}/django_app.py`;

      it('reverse() includes the script prefix', async () => {
        expect(await (await s.get(`${base}/`)).text()).toContain(`href="${base}/greet/"`);
      });

      it('APPEND_SLASH redirects within the script URL', async () => {
        const res = await s.get(`${base}/greet`);
        expect(res.status).toBe(301);
        expect(res.headers.get('location')).toBe(`${base}/greet/`);
      });

      it('accepts a form POST carrying the CSRF cookie and token, and refuses one without', async () => {
        const page = await s.get(`${base}/greet/`);
        const cookie = page.headers
          .getSetCookie()
          .map((c) => c.trim().split(';')[0])
          .find((c) => c.startsWith('csrftoken='));
        const html = await page.text();
        expect(html).toContain(`action="${base}/greet/"`);
        const token = /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(html)![1];
        const post = (headers: Record<string, string>, fields: Record<string, string>) =>
          s.get(`${base}/greet/`, { method: 'POST', headers: { ...FORM_TYPE, ...headers }, body: form(fields) });
        const ok = await post({ cookie: cookie! }, { csrfmiddlewaretoken: token, name: 'Ada' });
        expect(ok.status).toBe(200);
        expect(await ok.text()).toContain('Hello, Ada!');
        expect((await post({}, { name: 'Ada' })).status).toBe(403);
      });

      it("answers unknown paths with Django's own 404", async () => {
        const res = await s.get(`${base}/nope/`);
        expect(res.status).toBe(404);
        expect(await res.text()).toContain('<h1>Not Found</h1>');
      });
    });

    describe('Bottle', () => {
      const base = `${prefix}/bottle_app.py`;

      it('routes with parameters and answers JSON with get_url() URLs', async () => {
        expect(await (await s.get(`${base}/hello/Ada`)).text()).toBe('Hello, Ada!');
        expect(await (await s.get(`${base}/items/1`)).json()).toEqual({
          id: 1,
          name: 'Alarm clock',
          self: `${base}/items/1`,
        });
      });

      it("maps missing items, unknown paths and exceptions to Bottle's own 404 and 500", async () => {
        for (const [path, status] of [
          ['/items/9', 404],
          ['/nope', 404],
          ['/items/x', 404],
          ['/boom', 500],
        ] as const) {
          const res = await s.get(`${base}${path}`);
          expect(res.status, path).toBe(status);
          expect(await res.text(), path).toContain(`<title>Error: ${status} `);
        }
      });
    });

    describe('Falcon', () => {
      const base = `${prefix}/falcon_app.py`;

      it('routes with parameters and answers JSON', async () => {
        const list = await (await s.get(`${base}/items`)).json();
        expect(list.prefix).toBe(base);
        expect(await (await s.get(`${base}/items/2`)).json()).toEqual({ id: 2, name: 'Desk lamp' });
      });

      it('takes a JSON POST and answers 201 with a Location under the script URL', async () => {
        const res = await s.get(`${base}/items`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: '{"name": "Chair"}',
        });
        expect(res.status).toBe(201);
        const item = await res.json();
        expect(res.headers.get('location')).toBe(`${base}/items/${item.id}`);
        expect(await (await s.get(`${base}/items/${item.id}`)).json()).toEqual({ id: item.id, name: 'Chair' });
      });

      it("maps missing items, unknown paths and exceptions to Falcon's own 404 and 500", async () => {
        for (const [path, status] of [
          ['/items/99', 404],
          ['/nope', 404],
          ['/boom', 500],
        ] as const) {
          const res = await s.get(`${base}${path}`);
          expect(res.status, path).toBe(status);
          expect((await res.json()).title, path).toMatch(new RegExp(`^${status} `));
        }
      });
    });

    describe('Pyramid', () => {
      const base = `${prefix}/pyramid_app.py`;

      it('routes with parameters and builds URLs with route_url()', async () => {
        expect(await (await s.get(`${base}/`)).json()).toEqual({
          hello: `http://127.0.0.1:${s.port}${base}/hello/World`,
          item: `http://127.0.0.1:${s.port}${base}/items/1`,
        });
        expect(await (await s.get(`${base}/hello/Ada`)).json()).toEqual({ greeting: 'Hello, Ada!', script_name: base });
        expect(await (await s.get(`${base}/items/1`)).json()).toEqual({
          id: '1',
          name: 'Alarm clock',
          self: `${base}/items/1`,
        });
      });

      it("maps missing items, unknown paths and exceptions to Pyramid's own 404 and 500", async () => {
        for (const [path, status] of [
          ['/items/9', 404],
          ['/nope', 404],
          ['/boom', 500],
        ] as const) {
          const res = await s.get(`${base}${path}`);
          expect(res.status, path).toBe(status);
          expect(await res.text(), path).toMatch(new RegExp(`<h1>${status} `));
        }
      });
    });

    describe('WebOb (the seed article example)', () => {
      const base = `${prefix}/webob_app.py`;

      it('shows query parameters and the extra path', async () => {
        const html = await (await s.get(`${base}/some/extra/path?name=Ada&colour=blue`)).text();
        expect(html).toContain('<h1>Hello, Ada!</h1>');
        expect(html).toContain('<code>/some/extra/path</code>');
        expect(html).toContain('<tr><td>colour</td><td>blue</td></tr>');
        expect(html).toContain(`action="${base}/posted/here?from=query"`);
      });

      it('merges form and query parameters on a POST', async () => {
        const res = await s.get(`${base}/posted/here?from=query`, {
          method: 'POST',
          headers: FORM_TYPE,
          body: form({ name: 'Bob', colour: 'red' }),
        });
        const html = await res.text();
        expect(html).toContain('<h1>Hello, Bob!</h1>');
        expect(html).toContain('<code>/posted/here</code>');
        const both = html.split('request.params')[1];
        expect(both).toContain('<tr><td>from</td><td>query</td></tr>');
        expect(both).toContain('<tr><td>name</td><td>Bob</td></tr>');
      });
    });
  });
});

describe('a page whose package is missing', () => {
  let s: Served;
  // The default interpreter: python3 on PATH, which may or may not have Flask.
  beforeAll(async () => (s = await serveExamples()));
  afterAll(() => s.stop());

  it('answers 500 naming the module outside development mode; the log has the interpreter and the fix', async () => {
    const res = await s.get('/examples/checked/needs_missing.py');
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).toContain("needs the Python module 'pypages_example_missing_package'");
    expect(text).toContain("The server's log says which Python, and how to install it.");
    expect(text).not.toMatch(/Traceback|pip install|\//);
    const logged = s.log.errors.join('\n');
    expect(logged).toMatch(/the Python pypages runs it with \(\/\S+\) cannot find/);
    expect(logged).toMatch(/\/\S+ -m pip install pypages_example_missing_package|This Python has no pip/);
    expect(logged).toContain('--python');
  });

  it('names flask for the Flask example under an interpreter without it', async () => {
    // A bare virtualenv of Debian's python3 (no system site-packages) certainly lacks Flask.
    const dir = tempDir('pypages-bare-venv-');
    try {
      const venv = join(dir, 'venv');
      spawnSync(PYTHON, ['-m', 'venv', '--without-pip', venv], { stdio: 'ignore' });
      const bare = await serveExamples(venv);
      try {
        const res = await bare.get('/examples/flask_app.py/hello/Ada');
        expect(res.status).toBe(500);
        expect(await res.text()).toContain("needs the Python module 'flask'");
      } finally {
        await bare.stop();
      }
    } finally {
      removeDir(dir); // the venv and the folder made for it
    }
  }, 60_000);
});
