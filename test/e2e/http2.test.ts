// A page load in headless Chromium over HTTP/2, and the same load over
// HTTP/1.1 (Chromium's --disable-http2), against pypages with --cert/--key.
// The page pulls 24 static images and 24 small pages that each take 50 ms
// (a database's time): HTTP/1.1 gets 6 connections to a host, HTTP/2 sends
// all on one. The load times are printed for the record, not asserted
// (speed is never asserted); what is asserted is the protocol each load
// used and that every resource arrived.

import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, serveTempRoot, tempDir, type TestServer } from '../helpers.js';

const CHROMIUM = process.env.PYPAGES_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking'];
const COUNT = 24;
const LOADS = 3;

const SLOW_PAGE = `import time


def application(environ, start_response):
    time.sleep(0.05)
    start_response("200 OK", [("Content-Type", "image/svg+xml")])
    return [b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>']
`;

function populate(root: string): void {
  const tags: string[] = [];
  for (let i = 0; i < COUNT; i++) {
    writeFileSync(join(root, `s${i}.svg`), `<svg xmlns="http://www.w3.org/2000/svg" width="8" height="${i + 1}"/>`);
    tags.push(`<img src="s${i}.svg">`, `<img src="slow.py?${i}">`);
  }
  writeFileSync(join(root, 'slow.py'), SLOW_PAGE);
  writeFileSync(join(root, 'index.html'), `<!doctype html><title>h2</title>${tags.join('')}`);
}

interface Load {
  protocol: string;
  ms: number;
  images: number;
}

describe('a page load in Chromium, HTTP/2 and HTTP/1.1', () => {
  let dir: string;
  let s: TestServer;
  const browsers: Browser[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium was not found at ${CHROMIUM} (apt-get install chromium)`);
    dir = tempDir('pypages-h2-e2e-');
    const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
    // biome-ignore format: openssl's arguments, as typed
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert],
      { stdio: 'pipe' });
    s = await serveTempRoot(populate, { cert, key });
  });

  afterAll(async () => {
    for (const b of browsers) await b.close();
    await s?.stop();
    removeDir(dir);
  });

  /** Loads the page `LOADS` times in a fresh context each (no cache, new connections); the median load. */
  async function loads(args: string[]): Promise<Load> {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...ARGS, ...args] });
    browsers.push(browser);
    const results: Load[] = [];
    for (let i = 0; i < LOADS; i++) {
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const page = await context.newPage();
      await page.goto(s.url, { waitUntil: 'load' });
      results.push(
        await page.evaluate(() => {
          const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
          const images = [...document.images].filter((img) => img.complete && img.naturalHeight > 0).length;
          return { protocol: nav.nextHopProtocol, ms: nav.loadEventStart - nav.startTime, images };
        }),
      );
      await context.close();
    }
    return results.sort((a, b) => a.ms - b.ms)[Math.floor(LOADS / 2)];
  }

  it('loads every resource over h2, and over http/1.1 with HTTP/2 turned off', async () => {
    const h2 = await loads([]);
    const h1 = await loads(['--disable-http2']);
    console.log(
      `page load, ${COUNT} static + ${COUNT} 50 ms pages, median of ${LOADS}: ` +
        `HTTP/2 ${h2.ms.toFixed(0)} ms, HTTP/1.1 ${h1.ms.toFixed(0)} ms (${(h1.ms / h2.ms).toFixed(2)}x)`,
    );
    expect(h2).toMatchObject({ protocol: 'h2', images: 2 * COUNT });
    expect(h1).toMatchObject({ protocol: 'http/1.1', images: 2 * COUNT });
    await expect.poll(() => s.log.lines.filter((l) => l.includes('HTTP/2.0" 200')).length).toBeGreaterThan(2 * COUNT);
  }, 120_000);
});
