// The development error page, as HTML: what went wrong, where in the
// author's own code (source around the line, the line marked, its local
// variables), the rest of the traceback with library frames folded, the
// request, and the request id. pypages' own frames never reach it (the
// worker leaves them out). Every value from the request, the page or the
// worker goes through esc(): a <script> in a query string, a header or a
// variable is shown as text. Plain text for clients that do not ask for
// HTML: ./dev-page-text.ts.

import { STATUS_CODES } from 'node:http';
import { relative, sep } from 'node:path';
import type { DetailFrame, ErrorDetails } from '../worker/error-details.js';
import { DEV_PAGE_STYLE } from './dev-page-style.js';

/** Everything a development error page shows. */
export interface DevError {
  status: number;
  /** One line: "ZeroDivisionError: division by zero", or why a URL is a 404. */
  title: string;
  requestId: string;
  /** Advice, one paragraph each (a hint, a missing module's help). */
  notes: string[];
  /** The text traceback, shown when there are no frames (and in the terminal). */
  traceback: string;
  details?: ErrorDetails;
  request: DevRequest;
  /** The site's root: files inside it are shown relative to it. */
  root: string;
}

export interface DevRequest {
  method: string;
  url: string;
  headers: [string, string][];
  /** The CGI environ the page got (page requests only). */
  environ?: Record<string, string>;
}

/** HTML-escapes text for element content and quoted attribute values. */
export function esc(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

/** The page, as a complete HTML document. */
export function devPageHtml(e: DevError): string {
  const head = `${e.status} ${STATUS_CODES[e.status] ?? 'Error'}`;
  const body = [
    `<header><p class="status">${esc(head)}</p><h1 class="exception">${esc(e.title)}</h1>${whereLine(e)}</header>`,
    ...e.notes.map((n) => `<p class="note">${esc(n)}</p>`),
    syntaxBlock(e),
    framesBlock(e),
    requestBlock(e.request, e.details?.form),
    `<footer><p class="request-id">Request id: <code>${esc(e.requestId)}</code>. ${terminalNote(e.status)} This page is shown in development mode only.</p></footer>`,
  ];
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${esc(head)}: ${esc(e.title)}</title><style>${DEV_PAGE_STYLE}</style></head>\n<body>\n${body.filter(Boolean).join('\n')}\n</body></html>\n`;
}

/** Where else the page's news is: the terminal has the traceback of a 5xx, the reason of a 404. */
export function terminalNote(status: number): string {
  return status >= 500
    ? 'The same traceback is in the terminal where pypages runs.'
    : 'The terminal where pypages runs says the same.';
}

/** A file as the author knows it: relative to the site's root when inside it. */
export function shownPath(file: string, root: string): string {
  const rel = relative(root, file);
  return rel && !rel.startsWith('..') && !rel.startsWith(sep) ? rel : file;
}

/** The innermost frame of the author's own code, if any. */
export function ownFrame(details: ErrorDetails | undefined): DetailFrame | undefined {
  return details?.frames?.filter((f) => !f.library).pop();
}

function whereLine(e: DevError): string {
  const f = ownFrame(e.details);
  const s = e.details?.syntax;
  const place = s ? { file: s.file, line: s.line, fn: '' } : f ? { file: f.file, line: f.line, fn: f.function } : null;
  if (!place) return '';
  const fn = place.fn ? `, in <code>${esc(place.fn)}</code>` : '';
  return `<p class="where">${esc(shownPath(place.file, e.root))}, line ${place.line}${fn}</p>`;
}

function syntaxBlock(e: DevError): string {
  const s = e.details?.syntax;
  if (!s) return '';
  const caret = `${' '.repeat(Math.max(s.offset - 1, 0))}^`;
  return `<section class="syntax"><h2>Syntax error in ${esc(shownPath(s.file, e.root))}, line ${s.line}</h2><pre class="source"><span class="num">${s.line}</span><mark>${esc(s.text)}</mark>\n<span class="num"></span><span class="caret">${esc(caret)}</span> ${esc(s.message)}</pre></section>`;
}

function framesBlock(e: DevError): string {
  const frames = e.details?.frames;
  if (!frames?.length) {
    return e.traceback && !e.details?.syntax
      ? `<section class="traceback"><h2>Traceback</h2><pre>${esc(e.traceback)}</pre></section>`
      : '';
  }
  const own = frames.filter((f) => !f.library);
  const innermost = ownFrame(e.details);
  const render = (list: DetailFrame[]) => list.map((f) => frameHtml(f, e.root, f === innermost)).join('\n');
  const library = frames.length - own.length;
  if (!own.length || !library)
    return `<section class="traceback"><h2>Traceback <small>(most recent call last)</small></h2>\n${render(frames)}</section>`;
  return `<section class="traceback"><h2>Your code <small>(most recent call last)</small></h2>\n${render(own)}
<details class="library"><summary>The whole traceback: ${frames.length} frames, ${library} of them in libraries</summary>\n${render(frames)}</details></section>`;
}

function frameHtml(f: DetailFrame, root: string, innermost: boolean): string {
  const cls = `frame ${f.library ? 'library' : 'user'}${innermost ? ' innermost' : ''}`;
  const head = `<p class="frame-head">${esc(shownPath(f.file, root))}, line ${f.line}, in <code>${esc(f.function)}</code></p>`;
  return `<div class="${cls}">${head}${sourceHtml(f)}${localsHtml(f.locals)}</div>`;
}

function sourceHtml(f: DetailFrame): string {
  if (!f.first || !f.source.length) return '';
  const lines = f.source.map((text, i) => {
    const n = f.first + i;
    const line = `<span class="num">${n}</span>${esc(text)}`;
    return n === f.line ? `<mark class="current">${line}</mark>` : line;
  });
  return `<pre class="source">${lines.join('\n')}</pre>`;
}

function localsHtml(locals: Record<string, string>): string {
  const rows = Object.entries(locals).map(([k, v]) => `<tr><th>${esc(k)}</th><td><code>${esc(v)}</code></td></tr>`);
  return rows.length
    ? `<details class="locals" open><summary>Local variables</summary><table>${rows.join('')}</table></details>`
    : '';
}

function requestBlock(r: DevRequest, form: [string, string][] = []): string {
  const query = r.url.includes('?') ? new URLSearchParams(r.url.slice(r.url.indexOf('?') + 1)) : null;
  const tables = [
    table('Query string', query ? [...query.entries()] : []),
    table('Form fields the page read', form),
    table('Headers', r.headers),
    table(
      'Environ',
      Object.entries(r.environ ?? {}).sort(([a], [b]) => a.localeCompare(b)),
    ),
  ];
  return `<section class="request"><h2>Request</h2><p><code>${esc(r.method)} ${esc(r.url)}</code></p>${tables.join('')}</section>`;
}

function table(title: string, rows: [string, string][]): string {
  if (!rows.length) return '';
  const body = rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('');
  return `<details><summary>${esc(title)} (${rows.length})</summary><table>${body}</table></details>`;
}
