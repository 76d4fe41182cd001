// The workloads: what wrk asks for, and how one answer is checked before the
// load starts (a server that answers wrongly fast must not win).

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ECHO_SIZE = 64 * 1024;
const BIG_SIZE = 1024 * 1024;

/** Headers a browser sends: they make the environ of `env` about 2 KB, as a real request's would. */
export const BROWSER_HEADERS = [
  'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
  'Accept-Language: en-GB,en;q=0.9,fr;q=0.8',
  'Accept-Encoding: gzip, deflate, br',
  'Referer: http://127.0.0.1/index.html',
  'Cookie: session=0123456789abcdef0123456789abcdef; theme=dark; consent=yes; _ga=GA1.1.123456789.1700000000',
  'Cache-Control: no-cache',
];

/**
 * name -> { path, describe, headers?, lua?(dir) -> wrk script, request?
 * (one checked request), check(res, docroot) -> error string or null }.
 * `cold` has no wrk loop: run.mjs requests never-seen scripts one by one.
 */
export const WORKLOADS = {
  hello: {
    describe: 'GET a 12-byte page',
    path: '/hello.py',
    check: (r) => expectBody(r, 'Hello world\n'),
  },
  env: {
    describe: 'GET a 2 KiB dump of the environ (browser-like request headers)',
    path: '/env.py',
    headers: BROWSER_HEADERS,
    check: (r) =>
      r.status !== 200 ? `status ${r.status}` : r.body.length !== 2048 ? `${r.body.length} bytes, not 2048` : null,
  },
  echo: {
    describe: 'POST 64 KiB, read it all, answer its length',
    path: '/echo.py',
    lua: (dir) => {
      const file = join(dir, 'echo.lua');
      writeFileSync(
        file,
        `wrk.method = "POST"\nwrk.body = string.rep("x", ${ECHO_SIZE})\nwrk.headers["Content-Type"] = "application/octet-stream"\n`,
      );
      return file;
    },
    request: {
      method: 'POST',
      body: Buffer.alloc(ECHO_SIZE, 'x'),
      headers: { 'content-type': 'application/octet-stream' },
    },
    check: (r) => expectBody(r, String(ECHO_SIZE)),
  },
  big: {
    describe: 'GET 1 MiB, streamed by the app in 64 KiB chunks',
    path: '/big.py',
    check: (r) =>
      r.status !== 200
        ? `status ${r.status}`
        : r.body.length !== BIG_SIZE
          ? `${r.body.length} bytes, not ${BIG_SIZE}`
          : null,
  },
  sleep: {
    describe: '50 ms of waiting per request (ceiling at 32 connections: 640 req/s)',
    path: '/sleep.py',
    check: (r) => expectBody(r, 'slept\n'),
  },
  flask: {
    describe: 'GET one Flask JSON route',
    path: '/flaskapp.py/json',
    check: (r) => {
      if (r.status !== 200) return `status ${r.status}: ${r.body.toString().slice(0, 200)}`;
      try {
        return JSON.parse(r.body.toString()).message === 'Hello, World!' ? null : 'unexpected JSON';
      } catch {
        return `not JSON: ${r.body.toString().slice(0, 100)}`;
      }
    },
  },
  static: {
    describe: 'GET a 1 KB static file',
    path: '/static/small.txt',
    check: (r, docroot) => expectBody(r, readFileSync(join(docroot, 'static/small.txt'), 'utf8')),
  },
  cold: {
    describe: 'first request to a never-seen script (each one a new file; sequential)',
    path: null,
    check: (r) => expectBody(r, 'Hello world\n'),
  },
};

function expectBody(r, text) {
  if (r.status !== 200) return `status ${r.status}: ${r.body.toString().slice(0, 200)}`;
  const got = r.body.toString();
  return got === text
    ? null
    : `body ${JSON.stringify(got.slice(0, 60))}, expected ${JSON.stringify(text.slice(0, 60))}`;
}
