// The request body's limits: is there a body, is it declared too large, does
// the client wait for 100 Continue, and is it pushed to the worker unasked.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { declaredTooLarge, expectsContinue, hasRequestBody, requestBody } from '../../../../lib/http/body/limits.js';

/** A request stand-in: a stream with headers and an HTTP version, as node:http gives. */
function request(headers: Record<string, string>, httpVersionMinor = 1): IncomingMessage {
  return Object.assign(new PassThrough(), { headers, httpVersionMinor }) as unknown as IncomingMessage;
}
const res = { headersSent: false } as ServerResponse;
const limits = (maxBody: number) => ({ maxBody, requestId: 'r-1', debug: false });
const WINDOW = 256 * 1024;

describe('hasRequestBody', () => {
  it.each([
    [{}, false],
    [{ 'content-length': '0' }, false],
    [{ 'content-length': '12' }, true],
    [{ 'transfer-encoding': 'chunked' }, true],
  ])('%j → %s', (headers, expected) => expect(hasRequestBody(headers)).toBe(expected));
});

describe('declaredTooLarge', () => {
  it('is a Content-Length over max-body; 0 is no limit; a chunked body is counted as it comes instead', () => {
    expect(declaredTooLarge(request({ 'content-length': '11' }), 10)).toBe(true);
    expect(declaredTooLarge(request({ 'content-length': '10' }), 10)).toBe(false);
    expect(declaredTooLarge(request({ 'content-length': '11' }), 0)).toBe(false);
    expect(declaredTooLarge(request({ 'transfer-encoding': 'chunked' }), 10)).toBe(false);
  });
});

describe('expectsContinue', () => {
  it('is "Expect: 100-continue" (any case) from an HTTP/1.1 client only', () => {
    expect(expectsContinue(request({ expect: '100-Continue' }))).toBe(true);
    expect(expectsContinue(request({ expect: '100-continue' }, 0))).toBe(false);
    expect(expectsContinue(request({ expect: 'something' }))).toBe(false);
    expect(expectsContinue(request({}))).toBe(false);
  });
});

describe('requestBody', () => {
  it('hands over the request itself when there is no body, and pushes nothing', () => {
    const req = request({});
    expect(requestBody(req, res, limits(10), WINDOW)).toEqual({ hasBody: false, body: req, push: false });
  });

  it('pushes a body unasked unless the client waits for 100 Continue or max-body is under the window', () => {
    const plan = (headers: Record<string, string>, maxBody: number) =>
      requestBody(request(headers), res, limits(maxBody), WINDOW);
    expect(plan({ 'content-length': '5' }, 0)).toMatchObject({ hasBody: true, push: true });
    expect(plan({ 'content-length': '5' }, WINDOW)).toMatchObject({ push: true });
    expect(plan({ 'content-length': '5' }, WINDOW - 1)).toMatchObject({ push: false });
    expect(plan({ 'content-length': '5', expect: '100-continue' }, 0)).toMatchObject({ push: false });
  });

  it('gives the worker a wrapper, not the request, when there is a body', () => {
    const req = request({ 'content-length': '5' });
    expect(requestBody(req, res, limits(0), WINDOW).body).not.toBe(req);
  });
});
