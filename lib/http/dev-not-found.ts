// Development mode's 404 for a URL that names something on disk that is
// never served (a .pyc, __init__.py, a dotfile, a folder without an index):
// the terminal says why, with a hint, and so does the page. A 404 for a name
// that does not exist stays quiet: that is a typo's ordinary answer.

import { lstatSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Context } from 'koa';
import type { Site } from '../site/site.js';
import type { Logger } from '../util/log.js';
import { devFor, devPage, devRequest } from './dev-request.js';

const HINTS: [RegExp, string][] = [
  [/^python artefact/, 'compiled or generated Python files are never served; request the .py page itself'],
  [
    /^package marker|package/,
    'a package (a folder with __init__.py) holds modules for pages to import; it is never served',
  ],
  [/^dotfile/, 'names that start with a dot are private: never served'],
  [/^bytecode cache/, "__pycache__ holds Python's compiled files: never served"],
  [/^python name in another case/, 'URLs are case-sensitive: use the file name exactly as it is on disk'],
  [/^editor backup/, "an editor's backup of a script is never served, so its source stays private"],
  [/^no index in folder/, 'add an index.py or index.html to the folder, or link to its pages by name'],
];

/** The file or folder a URL path names under `root`, if it exists (percent-decoded; never outside the root). */
export function existingPath(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  const full = join(root, decoded);
  const rel = relative(root, full);
  if (rel.startsWith('..') || rel.startsWith(sep)) return null;
  try {
    return lstatSync(full, { throwIfNoEntry: false }) ? full : null;
  } catch {
    return null; // a folder on the way the server may not enter (EACCES): the plain 404, as for a missing name
  }
}

/** The hint for a resolve reason, or ''. */
export function notServedHint(reason: string): string {
  return HINTS.find(([re]) => re.test(reason))?.[1] ?? '';
}

/** In development mode, logs and answers a 404 for something that exists; false when it is not that case. */
export function devNotFound(ctx: Context, site: Site, reason: string, log: Logger): boolean {
  if (!site.dev) return false;
  const path = ctx.path;
  const found = existingPath(site.root, path);
  if (found === null) return false;
  const hint = notServedHint(reason);
  log.error(
    `request ${ctx.state.requestId}: ${ctx.method} ${ctx.url} → 404: not served: ${reason}${hint ? `\nHint: ${hint}` : ''}`,
  );
  if (!devFor(site, ctx.headers)) return false;
  const page = devPage(ctx.headers, {
    status: 404,
    title: `${path} is not served: ${reason}`,
    requestId: ctx.state.requestId,
    notes: hint ? [`Hint: ${hint}`] : [],
    traceback: '',
    request: devRequest(ctx.req),
    root: site.root,
  });
  ctx.status = 404;
  ctx.type = page.type;
  ctx.body = page.body;
  return true;
}
