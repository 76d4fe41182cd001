// A broken page breaks only itself: exceptions, failed imports and dying
// workers give that request a clear 5xx, are logged, and nothing else suffers.
// All of it under both launch modes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAUNCHES, startTestServer, waitFor, type TestServer } from '../helpers.js';

describe.each(LAUNCHES)('launch %s', (launch) => {
  describe('faults (default: no debug)', () => {
    let s: TestServer;
    beforeAll(async () => (s = await startTestServer({ launch })));
    afterAll(() => s.stop());

    it('answers 500 for an exception in the app, logs the traceback with the request id', async () => {
      const res = await s.get('/raises.py');
      expect(res.status).toBe(500);
      const text = await res.text();
      expect(text).not.toContain('boom in the app'); // no traceback in the page without --debug
      const id = /Request id: (\S+)/.exec(text)![1];
      const line = await waitFor(() => s.log.errors.find((l) => l.includes(id)), 'the error log line');
      expect(line).toContain('raises.py');
      expect(line).toContain('RuntimeError: boom in the app');
    });

    it('answers 500 for an exception at import', async () => {
      const res = await s.get('/import_error.py');
      expect(res.status).toBe(500);
      await waitFor(() => s.log.errors.some((l) => l.includes('ImportError: boom at import')), 'the import traceback');
    });

    it('answers 502 when the worker calls os._exit, and the next request gets a fresh worker', async () => {
      expect((await s.get('/exits.py')).status).toBe(502);
      expect((await s.get('/exits.py')).status).toBe(502);
      await waitFor(() => s.log.errors.some((l) => l.includes('exited with code 3')), 'the exit log line');
    });

    it('answers 502 when the worker is killed by a signal; other pages are unaffected', async () => {
      const before = await (await s.get('/counter.py')).text();
      expect((await s.get('/killed.py')).status).toBe(502);
      await waitFor(() => s.log.errors.some((l) => l.includes('killed by SIGKILL')), 'the kill log line');
      const after = await (await s.get('/counter.py')).text();
      expect(Number(after.split(' ')[0])).toBe(Number(before.split(' ')[0]) + 1); // same worker, state kept
      expect(after.split(' ')[1]).toBe(before.split(' ')[1]);
    });

    it('keeps module state per script and never shares it between scripts', async () => {
      const a1 = (await (await s.get('/counter2.py')).text()).split(' ');
      const a2 = (await (await s.get('/counter2.py')).text()).split(' ');
      const b = (await (await s.get('/counter.py')).text()).split(' ');
      expect(Number(a2[0])).toBe(Number(a1[0]) + 1);
      expect(a2[1]).toBe(a1[1]);
      expect(b[1]).not.toBe(a1[1]); // another process
      expect(a1[2]).not.toBe('__main__');
    });

    it('answers 404 for application that is not callable', async () => {
      expect((await s.get('/not_callable.py')).status).toBe(404);
    });
  });

  describe('faults with --debug', () => {
    let s: TestServer;
    beforeAll(async () => (s = await startTestServer({ launch, debug: true })));
    afterAll(() => s.stop());

    it('shows the Python traceback in the error page', async () => {
      const res = await s.get('/raises.py');
      expect(res.status).toBe(500);
      const text = await res.text();
      expect(text).toContain('Traceback (most recent call last)');
      expect(text).toContain('RuntimeError: boom in the app');
      expect(text).toMatch(/Request id: \S+/);
    });
  });
});
