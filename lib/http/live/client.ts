// The script live reload puts into HTML pages in development mode. It opens
// an EventSource to LIVE_PATH naming the page, the time it was served and the
// same-origin files it loaded (stylesheets, scripts, images), and then:
// "reload" reloads the page; "css" swaps the changed stylesheet's <link> for
// a fresh copy, without a reload; "hello" names the server process, so a page
// whose server restarted reloads once it is back. A hidden tab closes its
// connection (browsers allow six per host over HTTP/1.1) and opens it again
// when shown, naming the same time: what changed meanwhile is caught then.

/** Where pages connect; reserved in development mode only (see lib/http/listener.ts). */
export const LIVE_PATH = '/-/live';

/** Same-origin files a page reports, at most: they travel in the EventSource's URL. */
export const MAX_REPORTED = 40;

const CLIENT = `(function () {
  if (window.__pypagesLive) return;
  window.__pypagesLive = true;
  var since = SINCE, source = null, server = null;
  function files() {
    var seen = {}, out = [];
    var urls = [].map.call(document.querySelectorAll('link[rel~="stylesheet"][href]'), function (l) { return l.href; });
    if (window.performance && performance.getEntriesByType)
      performance.getEntriesByType('resource').forEach(function (e) { urls.push(e.name); });
    urls.forEach(function (u) {
      try { u = new URL(u, location.href); } catch (e) { return; }
      if (u.origin !== location.origin || u.pathname === PATH || seen[u.pathname] || out.length >= MAX) return;
      seen[u.pathname] = true;
      out.push(u.pathname);
    });
    return out;
  }
  function swap(path) {
    var found = false;
    [].forEach.call(document.querySelectorAll('link[rel~="stylesheet"][href]'), function (l) {
      var u = new URL(l.href, location.href);
      if (u.origin !== location.origin || u.pathname !== path) return;
      u.searchParams.set('pypages-live', String(Date.now()));
      l.href = u.href;
      found = true;
    });
    if (!found) location.reload();
  }
  function open() {
    var query = '?page=' + encodeURIComponent(location.pathname) + '&since=' + since;
    files().forEach(function (f) { query += '&file=' + encodeURIComponent(f); });
    source = new EventSource(PATH + query);
    source.addEventListener('hello', function (e) {
      var id = JSON.parse(e.data).server;
      if (server !== null && server !== id) location.reload();
      server = id;
    });
    source.addEventListener('reload', function () { location.reload(); });
    source.addEventListener('css', function (e) { swap(JSON.parse(e.data).path); });
  }
  document.addEventListener('visibilitychange', function () {
    if (document.hidden && source) { source.close(); source = null; }
    else if (!document.hidden && !source) open();
  });
  if (document.readyState === 'complete') open(); else window.addEventListener('load', open);
})();`;

/** The <script> element for a page served at `since` (ms since the epoch: changes after it reload the page). */
export function liveSnippet(since: number): string {
  const body = CLIENT.replace(/\n\s*/g, '\n')
    .replace('SINCE', String(Math.floor(since)))
    .replaceAll('PATH', JSON.stringify(LIVE_PATH))
    .replace('MAX', String(MAX_REPORTED));
  return `<script data-pypages="live-reload">${body}</script>`;
}
