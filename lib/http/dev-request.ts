// Which requests get the development page, and sending it. Development mode
// is a site's (lib/config/dev-mode.ts); within it, a request that came
// through a proxy (it carries Forwarded, X-Forwarded-For, X-Real-IP or Via)
// gets the short page all the same, and so does, when the mode is only on by
// default, a request for a Host that is not loopback: a reverse proxy on the
// same machine makes every client look local, and the details are for the
// person at this one.

import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { isLoopbackHost } from '../config/dev-mode.js';
import type { Site } from '../site/site.js';
import { type DevError, devPageHtml } from './dev-page.js';
import { devPageText } from './dev-page-text.js';

const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip', 'via'];

/**
 * True when this request of `site` is answered with development pages. When
 * development mode is only on by default ('local'), the request must also
 * name a loopback Host: a proxy that adds no headers still passes the Host
 * its client asked for, or its own upstream's.
 */
export function devFor(site: Site, headers: IncomingHttpHeaders): boolean {
  if (!site.dev || PROXY_HEADERS.some((name) => headers[name] !== undefined)) return false;
  return site.dev === true || isLoopbackHost((headers.host ?? '').replace(/:\d+$/, ''));
}

/** True when the client asks for HTML (a browser): the development page is then HTML, else text. */
export function wantsHtml(headers: IncomingHttpHeaders): boolean {
  return /\btext\/html\b|\bapplication\/xhtml\+xml\b/i.test(String(headers.accept ?? ''));
}

/** The development page's body and Content-Type for this request. */
export function devPage(headers: IncomingHttpHeaders, e: DevError): { type: string; body: string } {
  return wantsHtml(headers)
    ? { type: 'text/html; charset=utf-8', body: devPageHtml(e) }
    : { type: 'text/plain; charset=utf-8', body: devPageText(e) };
}

/** Writes the development page to a response that has not started. */
export function writeDevPage(
  req: IncomingMessage,
  res: ServerResponse,
  e: DevError,
  headers: OutgoingHttpHeaders = {},
): void {
  const { type, body } = devPage(req.headers, e);
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) res.setHeader(name, value);
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Cache-Control', 'no-store');
  res.writeHead(e.status);
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** The request as the development page shows it: method, URL, headers as sent. */
export function devRequest(req: IncomingMessage, environ?: Record<string, string>): DevError['request'] {
  const headers: [string, string][] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
  return { method: req.method ?? '', url: req.url ?? '', headers, environ };
}
