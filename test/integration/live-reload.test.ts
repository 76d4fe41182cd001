// Live reload over HTTP with real Python: which answers get the script (HTML
// from pages, static files and error pages; never other types, nor pages whose
// CSP forbids it, nor outside development mode), Content-Length grown to
// match, and the event stream: an edit of a module a page imported reloads
// it, a stylesheet edit swaps it, the number of streams is bounded, and a
// stopping server ends them. The browser side is test/e2e/live-reload.test.ts.
import { appendFileSync, writeFileSync } from 'node:fs';
import { get, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CLIENTS } from '../../lib/http/live/hub.js';
import { makeConfig } from '../../lib/config/config.js';
import { memoryLogger } from '../../lib/util/log.js';
import { startPypages } from '../../server/app.js';
import { AS_RUNNER, rawRequest, removeDir, serveTempRoot, tempDir, type TestServer, waitFor } from '../helpers.js';

const HTML_PAGE = (body: string, headers = '') => `import helper
def application(environ, start_response):
    body = ${JSON.stringify(body)}.replace("HELPER", helper.WORD).encode()
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))${headers}])
    return [body]
`;

function populate(root: string): void {
  writeFileSync(join(root, 'helper.py'), 'WORD = "one"\n');
  writeFileSync(join(root, 'page.py'), HTML_PAGE('<html><body><p>HELPER</p></body></html>'));
  writeFileSync(join(root, 'nobody.py'), HTML_PAGE('<p>no body end</p>'));
  writeFileSync(
    join(root, 'streamed.py'),
    `def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/html")])
    yield b"<html><body><p>first</p>"
    yield b"<p>second</p></BODY></html>"
`,
  );
  writeFileSync(
    join(root, 'csp.py'),
    HTML_PAGE('<html><body>x</body></html>', `, ("Content-Security-Policy", "script-src 'self'")`),
  );
  writeFileSync(
    join(root, 'csp_inline.py'),
    HTML_PAGE('<html><body>x</body></html>', `, ("Content-Security-Policy", "default-src 'self' 'unsafe-inline'")`),
  );
  writeFileSync(
    join(root, 'text.py'),
    HTML_PAGE('<body>text</body>').replace('text/html; charset=utf-8', 'text/plain'),
  );
  writeFileSync(join(root, 'raises.py'), 'def application(environ, start_response):\n    raise ValueError("no")\n');
  writeFileSync(
    join(root, 'static.html'),
    '<html><head><link rel="stylesheet" href="style.css"></head><body>s</body></html>',
  );
  writeFileSync(join(root, 'style.css'), 'body { color: black }\n');
}

const HTML = { headers: { Accept: 'text/html' } };
const SCRIPT = '<script data-pypages="live-reload">';

describe('live reload: the script in answers', () => {
  let s: TestServer;
  beforeAll(async () => void (s = await serveTempRoot(populate, { dev: true })));
  afterAll(() => s?.stop());

  it('goes before </body> of a page, with Content-Length grown to match', async () => {
    const res = await rawRequest(s.port, 'GET', '/page.py', 'Accept: text/html\r\n');
    const body = res.body.toString();
    expect(res.status).toBe(200);
    expect(Number(res.headers['content-length'])).toBe(res.body.length);
    expect(body).toMatch(
      /^<html><body><p>one<\/p><script data-pypages="live-reload">[\s\S]*<\/script><\/body><\/html>$/,
    );
  });

  it('goes at the end of a page with no </body>, and into a streamed page before its </BODY>', async () => {
    const plain = await rawRequest(s.port, 'GET', '/nobody.py', '');
    expect(Number(plain.headers['content-length'])).toBe(plain.body.length);
    expect(plain.body.toString()).toMatch(/^<p>no body end<\/p><script data-pypages="live-reload">[\s\S]*<\/script>$/);
    const streamed = await (await s.get('/streamed.py')).text();
    expect(streamed).toMatch(/<p>second<\/p><script data-pypages="live-reload">[\s\S]*<\/script><\/BODY><\/html>$/);
  });

  it('goes into static HTML (Content-Length too) and error pages, HEAD announcing the same length', async () => {
    const res = await rawRequest(s.port, 'GET', '/static.html', '');
    expect(res.body.toString()).toContain(`${SCRIPT}`);
    expect(Number(res.headers['content-length'])).toBe(res.body.length);
    const head = await rawRequest(s.port, 'HEAD', '/static.html', '');
    expect(head.headers['content-length']).toBe(res.headers['content-length']);
    const error = await s.get('/raises.py', HTML);
    expect(error.status).toBe(500);
    expect(await error.text()).toContain(SCRIPT);
  });

  it('stays out of other types, subresource fetches, proxied requests and pages whose CSP forbids it (logged once)', async () => {
    expect(await (await s.get('/text.py')).text()).not.toContain(SCRIPT);
    expect(await (await s.get('/style.css')).text()).not.toContain(SCRIPT);
    expect(await (await s.get('/page.py', { headers: { 'Sec-Fetch-Dest': 'empty' } })).text()).not.toContain(SCRIPT);
    expect(await (await s.get('/page.py', { headers: { 'X-Forwarded-For': '10.0.0.1' } })).text()).not.toContain(
      SCRIPT,
    );
    const csp = await rawRequest(s.port, 'GET', '/csp.py', '');
    expect(csp.body.toString()).toBe('<html><body>x</body></html>');
    expect(Number(csp.headers['content-length'])).toBe(csp.body.length);
    await s.get('/csp.py');
    const told = s.log.errors.filter((l) => l.includes('live reload not added to /csp.py'));
    expect(told).toHaveLength(1);
    expect(told[0]).toContain('Content-Security-Policy (script-src) forbids inline scripts');
    expect(await (await s.get('/csp_inline.py')).text()).toContain(SCRIPT);
  });
});

describe('live reload: off outside development mode', () => {
  let s: TestServer;
  beforeAll(async () => void (s = await serveTempRoot(populate, { dev: false })));
  afterAll(() => s?.stop());

  it('adds no script and has no endpoint', async () => {
    expect(await (await s.get('/page.py', HTML)).text()).toBe('<html><body><p>one</p></body></html>');
    expect(await (await s.get('/static.html', HTML)).text()).not.toContain(SCRIPT);
    expect((await s.get('/-/live?page=/page.py')).status).toBe(404);
  });
});

interface Stream {
  res: IncomingMessage;
  events: { event: string; data: string }[];
  close(): void;
}

/** Opens the event stream and collects its events as they come. */
function openStream(port: number, query: string): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path: `/-/live?${query}`, agent: false }, (res) => {
      const events: Stream['events'] = [];
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        buffer += text;
        for (let at = buffer.indexOf('\n\n'); at !== -1; at = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          if (event) events.push({ event, data: /^data: (.*)$/m.exec(block)?.[1] ?? '' });
        }
      });
      res.on('error', () => {});
      resolve({ res, events, close: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

describe('live reload: the event stream', () => {
  let s: TestServer;
  beforeAll(async () => void (s = await serveTempRoot(populate, { dev: true })));
  afterAll(() => s?.stop());

  it('reloads a page when a module it imported changes', async () => {
    await s.get('/page.py', HTML); // a worker imports helper.py and reports it
    const stream = await openStream(s.port, `page=%2Fpage.py&since=${Date.now()}`);
    expect(stream.res.headers['content-type']).toBe('text/event-stream');
    await waitFor(() => stream.events.some((e) => e.event === 'hello'), 'hello');
    expect(stream.events.some((e) => e.event === 'reload')).toBe(false);
    appendFileSync(join(s.root, 'helper.py'), 'WORD = "two"\n');
    await waitFor(() => stream.events.find((e) => e.event === 'reload'), 'a reload event');
    expect(JSON.parse(stream.events.find((e) => e.event === 'reload')!.data)).toEqual({ file: '/helper.py' });
    stream.close();
    expect(await (await s.get('/page.py', HTML)).text()).toContain('<p>two</p>');
  });

  it('sends a stylesheet edit as a swap, once per change', async () => {
    const stream = await openStream(s.port, `page=%2Fstatic.html&since=${Date.now()}&file=%2Fstyle.css`);
    await waitFor(() => stream.events.some((e) => e.event === 'hello'), 'hello');
    appendFileSync(join(s.root, 'style.css'), 'p { color: red }\n');
    await waitFor(() => stream.events.find((e) => e.event === 'css'), 'a css event');
    expect(JSON.parse(stream.events.find((e) => e.event === 'css')!.data)).toEqual({ path: '/style.css' });
    const seen = stream.events.length;
    await (await s.get('/page.py', HTML)).text(); // time passes by a round trip; no second swap for one edit
    await new Promise((r) => setTimeout(r, 700));
    expect(stream.events.length).toBe(seen);
    expect(stream.events.some((e) => e.event === 'reload')).toBe(false);
    stream.close();
  });

  it('counts an edit the coarse file clock stamps a few ms before the page was served', async () => {
    // The kernel stamps files from a clock up to a tick behind Date.now(): a page
    // served "5 ms later" than the edit's stamp stands for an edit right after serving.
    const since = Date.now() + 5;
    const stream = await openStream(s.port, `page=%2Fstatic.html&since=${since}&file=%2Fstyle.css`);
    await waitFor(() => stream.events.some((e) => e.event === 'hello'), 'hello');
    writeFileSync(join(s.root, 'style.css'), 'p { color: blue }\n');
    await waitFor(() => stream.events.find((e) => e.event === 'css'), 'a css event');
    stream.close();
  });
});

describe('live reload: the bound on streams', () => {
  let s: TestServer;
  beforeAll(async () => void (s = await serveTempRoot(populate, { dev: true })));
  afterAll(() => s?.stop());

  it(`takes at most ${MAX_CLIENTS} streams, and room comes back when they close`, async () => {
    const streams = await Promise.all(
      Array.from({ length: MAX_CLIENTS }, () => openStream(s.port, `page=%2Fstatic.html&since=${Date.now()}`)),
    );
    expect(streams.every((x) => x.res.statusCode === 200)).toBe(true);
    const refused = await openStream(s.port, 'page=%2Fstatic.html');
    expect(refused.res.statusCode).toBe(503);
    for (const x of streams) x.close();
    await waitFor(async () => {
      const again = await openStream(s.port, 'page=%2Fstatic.html');
      again.close();
      return again.res.statusCode === 200;
    }, 'room for a stream');
  });
});

describe('live reload: shutdown', () => {
  it('counts no stream as work in flight, and ends them at once, so a graceful stop does not wait', async () => {
    const root = tempDir('pypages-test-');
    populate(root);
    const running = await startPypages(makeConfig({ root, port: 0, dev: true, shutdownGrace: 30, ...AS_RUNNER }), {
      log: memoryLogger(),
    });
    try {
      const stream = await openStream(running.port, 'page=%2Fstatic.html');
      expect(stream.res.statusCode).toBe(200);
      expect(running.inflight).toBe(0);
      const ended = new Promise((r) => stream.res.on('close', r));
      const started = Date.now();
      await running.close();
      await ended;
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      removeDir(root);
    }
  });
});
