// The development error page's stylesheet (./dev-page.ts), kept apart so the
// page's structure reads on its own.

/** CSS for the development error page: readable on a laptop and a projector. */
export const DEV_PAGE_STYLE = `
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
header{background:#b3261e;color:#fff;padding:16px 24px}
header .status{margin:0;opacity:.85}
h1{font-size:22px;margin:4px 0;word-break:break-word}
.where{margin:4px 0 0;font-family:ui-monospace,monospace}
section,.note,footer{margin:16px 24px}
.note{background:#fff8e1;border-left:4px solid #f9a825;padding:10px 14px;white-space:pre-wrap}
h2{font-size:17px;margin:18px 0 8px}
h2 small{font-weight:normal;color:#666}
.frame{background:#fff;border:1px solid #ddd;border-radius:6px;margin:8px 0;padding:6px 10px}
.frame.innermost{border-color:#b3261e}
.frame.library{opacity:.8}
.frame-head{margin:2px 0;font-family:ui-monospace,monospace}
pre{font:13px/1.4 ui-monospace,monospace;overflow-x:auto;margin:6px 0;padding:6px;background:#f4f4f4}
pre mark{display:inline-block;min-width:100%;background:#ffd8d6}
.num{display:inline-block;width:3.5em;color:#888;user-select:none}
.caret{color:#b3261e;font-weight:bold}
table{border-collapse:collapse;font-size:13px;margin:4px 0}
th{text-align:left;vertical-align:top;padding:2px 12px 2px 0;font-family:ui-monospace,monospace}
td{font-family:ui-monospace,monospace;word-break:break-all}
summary{cursor:pointer;color:#444}
footer{color:#555;font-size:13px}
`;
