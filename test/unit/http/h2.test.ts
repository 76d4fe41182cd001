import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { writeHead } from '../../../lib/http/h2.js';

/** A response that records writeHead's arguments; `h2` gives it a stream, as node:http2's compatibility response has. */
function fakeResponse(h2: boolean): { res: ServerResponse; calls: unknown[][] } {
  const calls: unknown[][] = [];
  const res = { writeHead: (...args: unknown[]) => calls.push(args), ...(h2 ? { stream: {} } : {}) };
  return { res: res as unknown as ServerResponse, calls };
}

const HEADERS = [
  'Content-Type',
  'text/plain',
  'Connection',
  'close',
  'Transfer-Encoding',
  'chunked',
  'keep-alive',
  'x',
  'Upgrade',
  'h2c',
  'Proxy-Connection',
  'y',
  'Set-Cookie',
  'a=1',
];

describe('writeHead', () => {
  it('over HTTP/1 writes the status, reason and headers as given', () => {
    const { res, calls } = fakeResponse(false);
    writeHead(res, 200, 'Fine', HEADERS);
    expect(calls).toEqual([[200, 'Fine', HEADERS]]);
  });

  it('over HTTP/2 drops the reason and the connection-specific headers, keeps the rest', () => {
    const { res, calls } = fakeResponse(true);
    writeHead(res, 201, 'Created', HEADERS);
    expect(calls).toEqual([[201, ['Content-Type', 'text/plain', 'Set-Cookie', 'a=1']]]);
  });
});
