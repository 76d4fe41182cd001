// End to end: the real pypages server over the real demo folder www/, driven
// by a real browser (Debian's headless Chromium through playwright-core).
// It checks what a visitor does: open the index, follow links, submit the
// seed article's GET and multipart POST forms, read what comes back.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page, type Response } from 'playwright-core';
import { makeConfig } from '../../lib/config/config.js';
import { startPypages } from '../../server/app.js';
import { AS_RUNNER } from '../helpers.js';

// CI installs Debian's chromium (see .ci/run); PYPAGES_CHROMIUM may point elsewhere.
const CHROMIUM = process.env.PYPAGES_CHROMIUM ?? '/usr/bin/chromium';
const WWW = path.resolve(fileURLToPath(new URL('../../www', import.meta.url)));

// Flags for a closed network and a root user (see the machine notes): no
// sandbox, and none of Chromium's own background connections.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe('the demo site in a browser', () => {
  let server: { url: string; close(): Promise<void> } | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext;
  let page: Page;
  let responses: Response[];

  beforeAll(async () => {
    // Fail, never skip: a missing browser must not look like a passing run.
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium was not found at ${CHROMIUM}. The browser test needs Debian's chromium ` +
          '(apt-get install -y chromium; .ci/run installs it), or PYPAGES_CHROMIUM set to a Chromium binary.',
      );
    }
    server = await startPypages(makeConfig({ root: WWW, port: 0, ...AS_RUNNER }));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await server?.close();
    }
  });

  beforeEach(async () => {
    context = await browser!.newContext();
    page = await context.newPage();
    responses = [];
    page.on('response', (r) => responses.push(r));
  });

  afterEach(async () => {
    await context?.close();
  });

  const url = (p: string) => new URL(p, server!.url).href;
  const bodyText = async () => ((await page.textContent('body')) ?? '').trim();
  // Chromium shows a JSON response as text; this reads it back as JSON.
  const bodyJson = async () => {
    const text = await bodyText();
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`the page at ${page.url()} is not JSON: ${JSON.stringify(text.slice(0, 300))}`);
    }
  };
  // Every request the page made, the stylesheet included, succeeded (the
  // demo has no favicon, which a browser may ask for on its own).
  const expectNoFailedResponses = () => {
    const failed = responses
      .filter((r) => r.status() >= 400 && new URL(r.url()).pathname !== '/favicon.ico')
      .map((r) => `${r.status()} ${r.url()}`);
    expect(failed).toEqual([]);
  };

  it('opens the index, which links every demo, and follows the link to hello.py', async () => {
    const res = await page.goto(server!.url);
    expect(res?.status()).toBe(200);
    expect(await page.title()).toBe('pypages demo');

    const links = await page.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    for (const demo of ['hello.py', 'environ.py', 'form.html', 'static.html', 'greetings.py']) {
      expect(links).toContain(demo);
    }
    expect(links.some((l) => l?.startsWith('greet.py'))).toBe(true);
    expect(links.some((l) => l?.startsWith('environ.py/here/is/a/path'))).toBe(true);

    await page.locator('a[href="hello.py"]').click();
    await page.waitForURL(url('hello.py'));
    expect(await bodyText()).toBe('Hello, World!');
    expectNoFailedResponses();
  });

  it('submits the GET form (A001), goes back, and submits the multipart POST form (A002)', async () => {
    await page.goto(url('form.html'));

    // The GET form: the hidden id travels in the query string.
    await page.getByRole('button', { name: 'List Product A001 Info' }).click();
    await page.waitForURL((u) => u.pathname === '/products.py' && u.searchParams.get('id') === 'A001');
    expect(await bodyJson()).toEqual({ name: 'Alarm clock', price: 25 });

    await page.goBack();
    await page.waitForURL(url('form.html'));

    // The POST form: the hidden id travels in a multipart/form-data body.
    const [request] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/products.py'),
      page.getByRole('button', { name: 'List Product A002 Info' }).click(),
    ]);
    expect(request.headers()['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(request.postData()).toContain('name="id"');
    const response = await request.response();
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toMatch(/^application\/json/);
    await page.waitForLoadState();
    expect(new URL(page.url()).pathname).toBe('/products.py');
    expect(await bodyJson()).toEqual({ name: 'Desk lamp', price: 40 });
    expectNoFailedResponses();
  });

  it('shows PATH_INFO, QUERY_STRING and SCRIPT_NAME in the environ dump', async () => {
    await page.goto(server!.url);
    await page.locator('a[href^="environ.py/here/is/a/path"]').click();
    await page.waitForURL((u) => u.pathname === '/environ.py/here/is/a/path');
    const lines = (await bodyText()).split('\n');
    expect(lines).toContain('PATH_INFO: /here/is/a/path');
    expect(lines).toContain('QUERY_STRING: a=1&b=2');
    expect(lines).toContain('SCRIPT_NAME: /environ.py');
    expect(lines).toContain('REQUEST_METHOD: GET');
  });

  it('greets by name through a sibling helper module, escaping what was typed', async () => {
    await page.goto(url('greet.py'));
    expect(await page.textContent('h1')).toBe('Hello, World!');
    await page.getByLabel('Your name').fill('<b>Ada</b>');
    await page.getByLabel('Language').selectOption('fr');
    await page.getByRole('button', { name: 'Greet me' }).click();
    await page.waitForURL((u) => u.searchParams.get('lang') === 'fr');
    // Shown as text, not as markup: there is no <b> element in the heading.
    expect(await page.textContent('h1')).toBe('Bonjour, <b>Ada</b> !');
    expect(await page.locator('h1 b').count()).toBe(0);
    expectNoFailedResponses();
  });

  it('serves the static page with its stylesheet, and never the helper module', async () => {
    await page.goto(url('static.html'));
    expect(await page.textContent('h1')).toBe('A static page');
    // style.css was applied: body is 44rem wide at most (16px per rem).
    expect(await page.evaluate(() => getComputedStyle(document.body).maxWidth)).toBe('704px');
    expectNoFailedResponses();

    const res = await page.goto(url('greetings.py'));
    expect(res?.status()).toBe(404);
    expect(await bodyText()).not.toContain('def greet');
  });
});
