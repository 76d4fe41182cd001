// Development mode in a real browser (Debian's headless Chromium through
// playwright-core, set up as in ./browser.test.ts): a page reloads by itself
// when its script or a module it imported is edited, and a stylesheet edit
// is applied without a reload. It also photographs a folder listing; with
// PYPAGES_SCREENSHOTS=docs set, the picture replaces
// docs/screenshots/listing.png (the README shows it).
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfig } from '../../lib/config/config.js';
import { memoryLogger } from '../../lib/util/log.js';
import { type RunningServer, startPypages } from '../../server/app.js';
import { AS_RUNNER, removeDir, tempDir } from '../helpers.js';

const CHROMIUM = process.env.PYPAGES_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const DOCS = new URL('../../docs/screenshots/', import.meta.url).pathname;

/** A teacher's folder: pages, a helper module, a Flask app not yet named `application`, a stylesheet, notes, folders. */
function populate(root: string): void {
  const file = (rel: string, text: string) => {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), text);
  };
  file('words.py', '"""Words the pages share."""\nGREETING = "one"\n');
  file('live.py', LIVE_PAGE);
  file('style.css', 'h1 { color: rgb(0, 0, 255); }\n');
  file('average.py', AVERAGE);
  file(
    'hello.py',
    '"""Says hello to the world."""\n\ndef application(environ, start_response):\n    start_response("200 OK", [("Content-Type", "text/plain")])\n    return [b"Hello, World!"]\n',
  );
  file(
    'form.py',
    '"""Asks for your name and greets you."""\nimport html\n\ndef application(environ, start_response):\n    start_response("200 OK", [("Content-Type", "text/html")])\n    return [b"<form><input name=name></form>"]\n',
  );
  file('shop.py', '"""A small Flask shop."""\nfrom flask import Flask\n\napp = Flask(__name__)\n');
  file('week2/index.html', '<p>Week 2</p>');
  file('images/cat.txt', 'a picture, one day');
  file('notes.txt', 'Bring a USB stick.\n');
}

const LIVE_PAGE = `"""A page that shows a word from words.py."""
import words

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [("<!DOCTYPE html><html><head><link rel=stylesheet href=style.css></head>"
             "<body><h1>%s</h1></body></html>" % words.GREETING).encode()]
`;

const AVERAGE = `"""Shows the average of the numbers in the form."""
from urllib.parse import parse_qs


def average(numbers):
    total = sum(numbers)
    return total / len(numbers)


def application(environ, start_response):
    form = parse_qs(environ["QUERY_STRING"])
    numbers = [int(n) for n in form.get("n", [])]
    text = "The average is %s" % average(numbers)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [text.encode()]
`;

describe('development mode in a browser', () => {
  let root: string;
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium was not found at ${CHROMIUM} (see ./browser.test.ts)`);
    root = tempDir('pypages-live-');
    populate(root);
    server = await startPypages(makeConfig({ root, port: 0, dev: true, ...AS_RUNNER }), { log: memoryLogger() });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await (await browser.newContext({ viewport: { width: 1000, height: 720 } })).newPage();
  });

  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await server?.close();
      removeDir(root);
    }
  });

  const url = (p: string) => new URL(p, server!.url).href;
  /** Marks the loaded document: a reload makes a new one without the mark. */
  const mark = () => page.evaluate(() => void ((window as unknown as { mark: number }).mark = 1));
  const marked = () => page.evaluate(() => (window as unknown as { mark?: number }).mark === 1);
  const connected = () => page.waitForResponse((r) => new URL(r.url()).pathname === '/-/live');

  it('reloads the page when a module it imported is edited, then when the script is', async () => {
    await Promise.all([connected(), page.goto(url('live.py'))]);
    expect(await page.textContent('h1')).toBe('one');
    await mark();
    let reconnected = connected(); // the reloaded page connects again: edits after that are seen
    writeFileSync(join(root, 'words.py'), '"""Words the pages share."""\nGREETING = "two"\n');
    await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'two', null, { timeout: 15_000 });
    expect(await marked()).toBe(false);

    await reconnected;
    await mark();
    reconnected = connected();
    writeFileSync(join(root, 'live.py'), LIVE_PAGE.replace('<h1>%s', '<h1>edited %s'));
    await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'edited two', null, {
      timeout: 15_000,
    });
    expect(await marked()).toBe(false);
    await reconnected;
  });

  it('applies a stylesheet edit without reloading the page', async () => {
    await Promise.all([connected(), page.goto(url('live.py'))]);
    const color = () => page.$eval('h1', (h) => getComputedStyle(h).color);
    expect(await color()).toBe('rgb(0, 0, 255)');
    await mark();
    writeFileSync(join(root, 'style.css'), 'h1 { color: rgb(255, 0, 0); }\n');
    await page.waitForFunction(() => getComputedStyle(document.querySelector('h1')!).color === 'rgb(255, 0, 0)', null, {
      timeout: 15_000,
    });
    expect(await marked()).toBe(true);
  });

  it("photographs a folder listing (the error page is ./dev-page.test.ts's)", async () => {
    const listing = await page.goto(url(''));
    expect(listing?.status()).toBe(200);
    expect(await page.textContent('h1')).toBe('Index of /');
    expect(await page.locator('a[href="shop.py"]').count()).toBe(1);
    await screenshot(page, 'listing.png');
  });
});

/** A PNG of the page's viewport, checked; copied into docs/ when PYPAGES_SCREENSHOTS=docs. */
async function screenshot(page: Page, name: string): Promise<void> {
  const dir = tempDir('pypages-shot-');
  try {
    const file = join(dir, name);
    await page.screenshot({ path: file });
    expect(readFileSync(file).subarray(1, 4).toString()).toBe('PNG');
    if (process.env.PYPAGES_SCREENSHOTS === 'docs') {
      mkdirSync(DOCS, { recursive: true });
      copyFileSync(file, join(DOCS, name));
    }
  } finally {
    removeDir(dir);
  }
}
