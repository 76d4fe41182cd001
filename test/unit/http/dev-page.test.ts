// The development error page: its structure, folding, and every value escaped.
import { describe, expect, it } from 'vitest';
import { devPageHtml, esc, type DevError } from '../../../lib/http/dev-page.js';
import { devPageText } from '../../../lib/http/dev-page-text.js';
import { checkedDetails } from '../../../lib/worker/error-details.js';

const frame = (file: string, library: boolean, fn: string, locals = {}) => ({
  file,
  line: 2,
  function: fn,
  library,
  first: 1,
  source: ['a = 1', 'b = a / 0', 'c = 2'],
  locals,
});

const error: DevError = {
  status: 500,
  title: 'ZeroDivisionError: <b>',
  requestId: 'r-1',
  notes: ['Hint: <i>'],
  traceback: 'Traceback...',
  details: {
    frames: [frame('/lib/flask/app.py', true, 'wsgi_app'), frame('/site/page.py', false, 'view', { x: "'<script>'" })],
  },
  request: { method: 'GET', url: '/page.py?q=<script>', headers: [['X-A', '<script>']] },
  root: '/site',
};

describe('devPageHtml', () => {
  it('puts the author frames first, marks the line, and folds the whole traceback with the library frames', () => {
    const html = devPageHtml(error);
    expect(html.indexOf('<h2>Your code')).toBeLessThan(html.indexOf('<details class="library">'));
    expect(html).toContain('<p class="where">page.py, line 2, in <code>view</code></p>');
    expect(html).toContain('<mark class="current"><span class="num">2</span>b = a / 0</mark>');
    expect(html).toContain('2 frames, 1 of them in libraries');
  });

  it('escapes everything that comes from the request, the page or the worker', () => {
    const html = devPageHtml(error);
    expect(html).not.toMatch(/<script>|<b>|<i>/);
    expect(html).toContain('&#39;&lt;script&gt;&#39;');
    expect(esc(`<a href="x">'&`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;');
  });

  it('has a text form with the same facts', () => {
    const text = devPageText(error);
    expect(text).toContain('ZeroDivisionError: <b>\n  at page.py, line 2, in view');
    expect(text).toContain("  x = '<script>'");
    expect(text).toContain('Request id: r-1. The same traceback is in the terminal');
  });
});

describe('checkedDetails', () => {
  it('keeps what has the right type and drops the rest', () => {
    const got = checkedDetails({
      type: 'E',
      hint: 5,
      frames: [{ file: 1, line: -3, function: 'f', library: 'yes', source: ['x', 2], locals: { a: 'r', b: 1 } }, 'bad'],
      missing: { module: 'm', python: '/p', pip: 'no', local: ['x.py', 3] },
    });
    expect(got).toEqual({
      type: 'E',
      frames: [{ file: '', line: 0, function: 'f', library: false, first: 0, source: ['x'], locals: { a: 'r' } }],
      missing: { module: 'm', python: '/p', pip: false, local: ['x.py'] },
    });
    expect(checkedDetails('nope')).toBeUndefined();
  });
});
