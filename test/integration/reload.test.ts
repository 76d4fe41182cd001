// Save a file, reload the browser, see the change: scripts and the modules
// they import from the document root, without a restart. All of it under
// both launch modes.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAUNCHES, startTestServer, waitFor, type TestServer } from '../helpers.js';

const RELOAD_FIXTURES = new URL('../fixtures/reload/', import.meta.url).pathname;
const fixture = (name: string) => readFileSync(join(RELOAD_FIXTURES, name), 'utf8');

/** The fixture's live.py (or its helper) edited to answer another word: the edits these tests save. */
const live = (word: string) => fixture('live.py').replace('"one "', `"${word} "`);
const helper = (word: string) => fixture('lib_for_reload.py').replace('"alpha"', `"${word}"`);

describe.each(LAUNCHES)('launch %s', (launch) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ launch });
    cpSync(RELOAD_FIXTURES, s.root, { recursive: true });
  });
  afterAll(() => s.stop());
  const text = async (path: string) => (await s.get(path)).text();

  describe('reload on change', () => {
    it('runs the new code of an edited script on the next request', async () => {
      expect(await text('/live.py')).toBe('one alpha');
      writeFileSync(join(s.root, 'live.py'), live('two'));
      expect(await text('/live.py')).toBe('two alpha');
    });

    it('runs the new code of an edited helper module it imported', async () => {
      writeFileSync(join(s.root, 'lib_for_reload.py'), helper('beta'));
      expect(await text('/live.py')).toBe('two beta');
    });

    it('gives 500 while the new version has a syntax error, then works again once fixed', async () => {
      writeFileSync(join(s.root, 'live.py'), 'def application(environ, start_response:\n');
      expect((await s.get('/live.py')).status).toBe(500);
      expect((await s.get('/live.py')).status).toBe(500);
      writeFileSync(join(s.root, 'live.py'), live('three'));
      expect(await text('/live.py')).toBe('three beta');
    });

    it('recovers from a syntax error in a helper module', async () => {
      writeFileSync(join(s.root, 'lib_for_reload.py'), 'WORD = \n');
      expect((await s.get('/live.py')).status).toBe(500);
      writeFileSync(join(s.root, 'lib_for_reload.py'), helper('gamma'));
      expect(await text('/live.py')).toBe('three gamma');
    });

    it('lets in-flight requests finish on the old code', async () => {
      const slow = s.get('/slow.py?s=1.5').then((r) => r.text());
      await waitFor(
        () => s.log.errors.some((l) => l.includes('slow.py is running v1')),
        'slow.py to run its first version',
      );
      writeFileSync(join(s.root, 'slow.py'), fixture('slow.py').replace('VERSION = "v1"', 'VERSION = "v2"'));
      expect(await text('/slow.py')).toBe('v2');
      expect(await slow).toBe('v1');
    });
  });
});
