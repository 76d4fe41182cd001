// The development error page as plain text, for clients that do not ask for
// HTML (curl, fetch() from a script, a test): the same facts as
// ./dev-page.ts, in the order a terminal reader wants them.

import { STATUS_CODES } from 'node:http';
import { type DevError, ownFrame, shownPath, terminalNote } from './dev-page.js';

/** The page as text. */
export function devPageText(e: DevError): string {
  const lines = [`${e.status} ${STATUS_CODES[e.status] ?? 'Error'}`, '', e.title];
  const own = ownFrame(e.details);
  if (own) lines.push(`  at ${shownPath(own.file, e.root)}, line ${own.line}, in ${own.function}`);
  for (const note of e.notes) lines.push('', note);
  const s = e.details?.syntax;
  if (s) {
    lines.push('', `${shownPath(s.file, e.root)}, line ${s.line}:`, `    ${s.text}`);
    lines.push(`    ${' '.repeat(Math.max(s.offset - 1, 0))}^ ${s.message}`);
  }
  if (e.traceback && !s) lines.push('', e.traceback.trimEnd());
  if (own && Object.keys(own.locals).length) {
    lines.push('', `Local variables of ${own.function}:`);
    for (const [k, v] of Object.entries(own.locals)) lines.push(`  ${k} = ${v}`);
  }
  lines.push('', `Request: ${e.request.method} ${e.request.url}`);
  lines.push(`Request id: ${e.requestId}. ${terminalNote(e.status)}`);
  return `${lines.join('\n')}\n`;
}
