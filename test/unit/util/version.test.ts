// The version, read once from package.json, in --version and SERVER_SOFTWARE alike.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { versionText } from '../../../lib/config/help.js';
import { buildEnviron } from '../../../lib/http/environ.js';
import { SERVER_SOFTWARE, VERSION } from '../../../lib/util/version.js';

it("is package.json's version, wherever pypages says it", () => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  expect(VERSION).toBe(pkg.version);
  expect(SERVER_SOFTWARE).toBe(`pypages/${pkg.version}`);
  expect(versionText()).toBe(`pypages ${pkg.version}`);
  const facts = {
    method: 'GET',
    rawUrl: '/',
    httpVersion: '1.1',
    rawHeaders: [],
    remoteAddress: '',
    remotePort: 0,
    localAddress: '',
    localPort: 0,
    secure: false,
  };
  expect(buildEnviron(facts, { file: '/r/a.py', scriptName: '/a.py', pathInfo: '', root: '/r' }).SERVER_SOFTWARE).toBe(
    `pypages/${pkg.version}`,
  );
});
