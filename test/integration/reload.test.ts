// Save a file, reload the browser, see the change: scripts and the modules
// they import from the document root, without a restart.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers.js';

let s: TestServer;
beforeAll(async () => (s = await startTestServer()));
afterAll(() => s.stop());

const page = (body: string) => `import lib_for_reload\n\ndef application(environ, start_response):\n    start_response("200 OK", [("Content-Type", "text/plain")])\n    return [(${body}).encode()]\n`;
const text = async (path: string) => (await s.get(path)).text();

describe('reload on change', () => {
  it('runs the new code of an edited script on the next request', async () => {
    writeFileSync(join(s.root, 'lib_for_reload.py'), 'WORD = "alpha"\n');
    writeFileSync(join(s.root, 'live.py'), page('"one " + lib_for_reload.WORD'));
    expect(await text('/live.py')).toBe('one alpha');
    writeFileSync(join(s.root, 'live.py'), page('"two " + lib_for_reload.WORD'));
    expect(await text('/live.py')).toBe('two alpha');
  });

  it('runs the new code of an edited helper module it imported', async () => {
    writeFileSync(join(s.root, 'lib_for_reload.py'), 'WORD = "beta"\n');
    expect(await text('/live.py')).toBe('two beta');
  });

  it('gives 500 while the new version has a syntax error, then works again once fixed', async () => {
    writeFileSync(join(s.root, 'live.py'), 'def application(environ, start_response:\n');
    expect((await s.get('/live.py')).status).toBe(500);
    expect((await s.get('/live.py')).status).toBe(500);
    writeFileSync(join(s.root, 'live.py'), page('"three " + lib_for_reload.WORD'));
    expect(await text('/live.py')).toBe('three beta');
  });

  it('recovers from a syntax error in a helper module', async () => {
    writeFileSync(join(s.root, 'lib_for_reload.py'), 'WORD = \n');
    expect((await s.get('/live.py')).status).toBe(500);
    writeFileSync(join(s.root, 'lib_for_reload.py'), 'WORD = "gamma"\n');
    expect(await text('/live.py')).toBe('three gamma');
  });

  it('lets in-flight requests finish on the old code', async () => {
    const slow = s.get('/sleepy.py?s=1.5').then((r) => r.text());
    await new Promise((r) => setTimeout(r, 500));
    writeFileSync(join(s.root, 'sleepy.py'), 'def application(environ, start_response):\n    start_response("200 OK", [])\n    return [b"v2"]\n');
    expect(await text('/sleepy.py')).toBe('v2');
    expect(await slow).toBe('v1');
  });
});
