// A page request that ended in an error before anything was sent: the log
// line (with the traceback, a missing module's help, or in development mode
// why a file is not a page) and the answer (the development page, or the
// short page that reveals nothing).

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Site } from '../site/site.js';
import type { Logger } from '../util/log.js';
import type { Outcome } from '../worker/outcome.js';
import type { RequestInfo } from './access-log.js';
import { type DevError, shownPath } from './dev-page.js';
import { devFor, devRequest, writeDevPage } from './dev-request.js';
import { errorPageText, writeErrorPage } from './error-page.js';
import { missingModuleName, moduleHelp, safeModuleNote } from './module-help.js';

type ErrorOutcome = Extract<Outcome, { kind: 'error' }>;

export interface PageError {
  req: IncomingMessage;
  res: ServerResponse;
  /** The script's absolute path. */
  file: string;
  info: RequestInfo;
  site: Site;
  log: Logger;
  /** The CGI environ the page was given, shown on the development page. */
  environ?: Record<string, string>;
}

/** Logs the error and answers it: a development page, or the short error page. */
export function answerPageError(p: PageError, outcome: ErrorOutcome): void {
  const advice = adviceOf(p, outcome);
  logPageError(p, outcome, advice);
  // A full queue, no free thread in time, or a tenant at tenant-max-requests: the client may try
  // again shortly. 1 s, the least the header can say: each of these clears as soon as one request
  // ends, most pages take well under a second, and a longer wait would leave the room idle (503,
  // not CloudLinux's 508: see tenantBusy in lib/groups/registry.ts). After a silent client (408)
  // the rest of its body may still come: the connection cannot be reused.
  const headers =
    outcome.status === 503 ? { 'Retry-After': '1' } : outcome.status === 408 ? { Connection: 'close' } : {};
  if (devFor(p.site, p.req.headers)) return writeDevPage(p.req, p.res, devErrorOf(p, outcome, advice), headers);
  const module = missingModuleName(outcome.message);
  const note = module ? safeModuleNote(module) : '';
  const text = errorPageText(outcome.status, p.info.id, outcome.traceback || outcome.message, p.site.debug, note);
  writeErrorPage(p.req, p.res, outcome.status, text, headers);
}

/** What to do about it: a not-page's hint, a missing module's help (paragraphs). */
function adviceOf(p: PageError, outcome: ErrorOutcome): string[] {
  const details = outcome.details;
  if (details?.hint) return [`Hint: ${details.hint}`];
  const module = details?.missing?.module ?? missingModuleName(outcome.message);
  if (!module) return [];
  const missing = details?.missing ?? { module, python: p.site.python, pip: true, local: [] };
  return [moduleHelp(missing).join('\n')];
}

function logPageError(p: PageError, outcome: ErrorOutcome, advice: string[]): void {
  const where = `request ${p.info.id}: ${p.req.method} ${p.req.url} → ${outcome.status}`;
  if (outcome.status >= 500) {
    const text = [`${where} (${outcome.errorKind}) in ${p.file}: ${outcome.message}`, outcome.traceback, ...advice];
    return p.log.error(text.filter(Boolean).join('\n').trimEnd());
  }
  if (outcome.status === 404 && p.site.dev) {
    const reason = outcome.message.replace(p.file, shownPath(p.file, p.site.root));
    p.log.error([`${where}: not a page: ${reason}`, ...advice].join('\n'));
  }
}

function devErrorOf(p: PageError, outcome: ErrorOutcome, advice: string[]): DevError {
  const shown = shownPath(p.file, p.site.root);
  const notPage = outcome.errorKind === 'not-page' || outcome.errorKind === 'not-callable';
  return {
    status: outcome.status,
    title: notPage
      ? `${shown} is not a page: ${outcome.message.replace(`${p.file}: `, '').replace(p.file, 'it')}`
      : outcome.message,
    requestId: p.info.id,
    notes: notPage && !advice.length ? [NOT_PAGE_NOTE] : advice,
    traceback: outcome.traceback,
    details: outcome.details,
    request: devRequest(p.req, p.environ),
    root: p.site.root,
  };
}

const NOT_PAGE_NOTE =
  'A .py file is a page when it defines application(environ, start_response) at module level; other Python files (helper modules) are answered 404 and never run by a request.';
