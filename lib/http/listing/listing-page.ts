// The folder listing as a page (HTML, or plain text for a client that does
// not ask for HTML), sent for a folder with no index in development mode.
// Every name, docstring and hint is escaped: file names are anyone's.

import type { Context } from 'koa';
import type { Site } from '../../site/site.js';
import type { Logger } from '../../util/log.js';
import { devFor, wantsHtml } from '../dev-request.js';
import type { Target } from '../resolve.js';
import { inVenv, type Listing, type ListedEntry, listFolder, scriptFiles } from './listing.js';
import type { ScriptSurvey } from './survey.js';

const SURVEYED = 300; // scripts whose docstrings are looked up per listing, at most

/** In development mode, answers a folder with no index with its listing; false when it is not that case. */
export async function sendListing(
  ctx: Context,
  target: Target,
  how: { site: Site; lookup: (urlPath: string) => Target; survey: ScriptSurvey; log: Logger },
): Promise<boolean> {
  const { site, lookup } = how;
  if (target.kind !== 'not-found' || !target.folder || !devFor(site, ctx.headers)) return false;
  if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || inVenv(site.root, target.folder)) return false;
  let listing: Listing;
  try {
    listing = listFolder(target.folder, ctx.path, lookup);
  } catch (err) {
    // Unreadable (EACCES) or gone since it resolved: the usual 404, with the reason in the log.
    how.log.error(`request ${ctx.state.requestId}: cannot list ${ctx.path}: ${(err as Error).message}`);
    return false;
  }
  const scripts = scriptFiles(listing, ctx.path, lookup);
  const files = [...scripts.keys()].slice(0, SURVEYED);
  const facts = await how.survey.facts(site.python, files);
  for (const [file, entry] of scripts) entry.facts = facts.get(file);
  const title = `Index of ${shownPath(ctx.path)}`;
  ctx.status = 200;
  ctx.set('Cache-Control', 'no-store');
  ctx.type = wantsHtml(ctx.headers) ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8';
  ctx.body = wantsHtml(ctx.headers) ? listingHtml(title, ctx.path, listing) : listingText(title, listing);
  return true;
}

function shownPath(urlPath: string): string {
  try {
    return decodeURIComponent(urlPath);
  } catch {
    return urlPath;
  }
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const GROUPS: [string, (e: ListedEntry) => boolean][] = [
  ['Pages', (e) => e.kind === 'script' && e.facts?.page === true],
  ['Python that is not a page', (e) => e.kind === 'script' && e.facts?.page !== true],
  ['Folders', (e) => e.kind === 'folder'],
  ['Other files', (e) => e.kind === 'file'],
];

/** What is said after an entry's name. */
function about(entry: ListedEntry): string {
  const f = entry.facts;
  if (entry.kind !== 'script' || !f) return '';
  if (f.error) return f.error;
  if (f.page) return f.doc ?? '';
  if (f.hint) return `not a page: ${f.hint}`;
  return `not a page (a module for pages to import)${f.doc ? `: ${f.doc}` : ''}`;
}

/** The listing as HTML. */
export function listingHtml(title: string, urlPath: string, listing: Listing): string {
  const sections = GROUPS.map(([heading, test]) => {
    const items = listing.entries.filter(test).map((e) => {
      const text = about(e);
      const name = e.kind === 'folder' ? `${e.name}/` : e.name;
      return `<li><a href="${esc(e.href)}">${esc(name)}</a>${text ? ` <span>${esc(text)}</span>` : ''}</li>`;
    });
    return items.length ? `<h2>${heading}</h2>\n<ul>\n${items.join('\n')}\n</ul>` : '';
  }).filter(Boolean);
  const up = urlPath === '/' ? '' : '<p><a href="../">↑ parent folder</a></p>';
  const more = listing.more ? `<p>${listing.more} more entries are not shown.</p>` : '';
  const empty = sections.length ? '' : '<p>Nothing here is served yet: save a page (a .py file) in this folder.</p>';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>${STYLE}</style></head>
<body><h1>${esc(title)}</h1>
<p class="note">This folder has no <code>index.py</code> or <code>index.html</code>, so development mode lists it. Outside development mode this address answers 404.</p>
${up}${sections.join('\n')}${empty}${more}
</body></html>
`;
}

/** The listing as plain text. */
export function listingText(title: string, listing: Listing): string {
  const lines = [title, ''];
  for (const [heading, test] of GROUPS) {
    const entries = listing.entries.filter(test);
    if (!entries.length) continue;
    lines.push(
      `${heading}:`,
      ...entries.map((e) => `  ${e.name}${e.kind === 'folder' ? '/' : ''}${about(e) ? `  ${about(e)}` : ''}`),
      '',
    );
  }
  if (listing.more) lines.push(`${listing.more} more entries are not shown.`);
  return `${lines.join('\n')}\n`;
}

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;margin:2em auto;max-width:50em;padding:0 1em;color:#222}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.5em;border-bottom:1px solid #ddd}
ul{list-style:none;padding:0}li{padding:.15em 0}a{font-family:ui-monospace,monospace}
li span{color:#555;margin-left:.6em}.note{color:#555;background:#f4f6f8;padding:.5em .8em;border-radius:4px}`;
