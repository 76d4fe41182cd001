// The development error page in a real browser (Debian's headless Chromium):
// what a student sees for an exception and for a file that is not a page,
// that no value from the request or the page runs as script, and the
// README's screenshots (docs/screenshots/), taken here.

import { cpSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveTempRoot, type TestServer } from '../helpers.js';

const CHROMIUM = process.env.PYPAGES_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'];
const FIXTURES = fileURLToPath(new URL('../fixtures/dev/', import.meta.url));
const SHOTS = path.resolve(fileURLToPath(new URL('../../docs/screenshots/', import.meta.url)));

describe('the development error page in a browser', () => {
  let server: TestServer | undefined;
  let browser: Browser | undefined;
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium was not found at ${CHROMIUM} (apt-get install -y chromium)`);
    server = await serveTempRoot((root) => cpSync(FIXTURES, root, { recursive: true }), { dev: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    page = await (await browser.newContext({ viewport: { width: 1000, height: 900 } })).newPage();
    mkdirSync(SHOTS, { recursive: true });
  });

  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await server?.stop();
    }
  });

  it('shows the exception, the marked line and the variables, and runs nothing from them', async () => {
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const res = await page.goto(new URL('boom.py?q=<script>alert(1)</script>', server!.url).href);
    expect(res?.status()).toBe(500);
    expect(await page.textContent('h1')).toBe('ZeroDivisionError: division by zero');
    expect(await page.isVisible('.frame.innermost mark.current')).toBe(true);
    expect(await page.textContent('.frame.innermost .locals')).toContain('text"<script>alert(\'local\')</script>"');
    // The one script is live reload's (test/e2e/live-reload.test.ts): nothing from the request or the page.
    expect(await page.locator('script:not([data-pypages="live-reload"])').count()).toBe(0);
    expect(await page.locator('script').count()).toBe(1);
    expect(dialogs).toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, 'dev-error-page.png'), fullPage: false });
  });

  it('explains a file that is not a page', async () => {
    const res = await page.goto(new URL('flask_app_named_app.py', server!.url).href);
    expect(res?.status()).toBe(404);
    expect(await page.textContent('.note')).toContain('add `application = app`');
    await page.screenshot({ path: path.join(SHOTS, 'dev-not-a-page.png') });
  });
});
