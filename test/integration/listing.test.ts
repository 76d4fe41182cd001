// Development mode's folder listing over HTTP with real Python: pages with
// their docstring's first line, Python that is not a page named as such (its
// source never shown), folders and other files, each a working link; nothing
// the resolver would not serve (dotfiles, __pycache__, packages, artefacts,
// backups), no virtualenv; hostile names escaped; off outside development mode.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveTempRoot, type TestServer } from '../helpers.js';

const SECRET = 'SECRET_SOURCE_LINE';
// No "/" in a file name: a hostile name is an element opened, an attribute and an entity.
const HOSTILE = `<img src=x onerror="alert('x')">&amp;.txt`;

function populate(root: string): void {
  const file = (rel: string, text = 'x\n') => {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), text);
  };
  file(
    'hello.py',
    `"""Greets the <b>world</b>.\n\nMore lines."""\n${SECRET} = 1\ndef application(e, s):\n    s("200 OK", [])\n    return [b"hi"]\n`,
  );
  file('nodoc.py', 'application = None\n');
  file('helper.py', `"""Helpers for pages."""\n${SECRET} = 2\n`);
  file('flask_like.py', `from flask import Flask\napp = Flask(__name__)\n${SECRET} = 3\n`);
  file('broken.py', 'def (\n');
  file('notes.txt');
  file(HOSTILE);
  file('.env', 'TOKEN=1');
  file('.git/config');
  file('__pycache__/hello.cpython-311.pyc');
  file('hello.pyc');
  file('hello.py~');
  file('__init__.py');
  file('pkg/__init__.py');
  file('pkg/mod.py');
  file('venv/pyvenv.cfg', 'home = /usr/bin\n');
  file('venv/lib/site.py');
  file('dotvenv_named_env/pyvenv.cfg');
  file('sub/page.html', '<p>hi</p>');
  file('withindex/index.html', '<p>index</p>');
}

const HTML = { headers: { Accept: 'text/html' } };

describe('development mode: folder listing', () => {
  let s: TestServer;
  let html: string;
  beforeAll(async () => {
    s = await serveTempRoot(populate, { dev: true });
    const res = await s.get('/', HTML);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    html = await res.text();
  });
  afterAll(() => s?.stop());

  const section = (heading: string) =>
    new RegExp(`<h2>${heading}</h2>\\n<ul>\\n([\\s\\S]*?)\\n</ul>`).exec(html)?.[1] ?? '';

  it('lists pages with their docstring line, escaped', () => {
    expect(section('Pages')).toBe(
      [
        '<li><a href="hello.py">hello.py</a> <span>Greets the &#60;b&#62;world&#60;/b&#62;.</span></li>',
        '<li><a href="nodoc.py">nodoc.py</a></li>',
      ].join('\n'),
    );
  });

  it('names Python that is not a page as such, with why, and never shows its source', () => {
    const python = section('Python that is not a page');
    expect(python).toContain('<a href="broken.py">broken.py</a> <span>SyntaxError');
    expect(python).toMatch(/<a href="flask_like.py">flask_like.py<\/a> <span>not a page: `app` is a Flask app here/);
    expect(python).toContain(
      '<a href="helper.py">helper.py</a> <span>not a page (a module for pages to import): Helpers for pages.</span>',
    );
    expect(html).not.toContain(SECRET);
  });

  it('lists folders and other files; hostile names are escaped and their links work', async () => {
    expect(section('Folders')).toBe(
      ['<li><a href="sub/">sub/</a></li>', '<li><a href="withindex/">withindex/</a></li>'].join('\n'),
    );
    const files = section('Other files');
    expect(files).toContain('<li><a href="notes.txt">notes.txt</a></li>');
    expect(files).toContain('>&#60;img src=x onerror=&#34;alert(&#39;x&#39;)&#34;&#62;&#38;amp;.txt</a>');
    expect(html).not.toContain('<img');
    const href = /<a href="([^"]*alert[^"]*)"/.exec(files)![1].replaceAll('&#39;', "'");
    expect((await s.get(`/${href}`)).status).toBe(200);
  });

  it('leaves out what is never served: dotfiles, __pycache__, artefacts, backups, packages, virtualenvs', () => {
    for (const name of [
      '.env',
      '.git',
      '__pycache__',
      'hello.pyc',
      'hello.py~',
      '__init__.py',
      'pkg',
      'venv',
      'dotvenv_named_env',
    ])
      expect(html).not.toContain(`>${name}<`);
  });

  it('lists a subfolder with a link up; a folder with an index serves it; plain text for a client not asking HTML', async () => {
    const sub = await (await s.get('/sub/', HTML)).text();
    expect(sub).toContain('<a href="../">');
    expect(sub).toContain('<li><a href="page.html">page.html</a></li>');
    expect(await (await s.get('/withindex/', HTML)).text()).toContain('<p>index</p>');
    const text = await (await s.get('/')).text();
    expect(text).toMatch(/^Index of \/\n\nPages:\n {2}hello.py {2}Greets the <b>world<\/b>\.\n {2}nodoc.py\n/);
    expect(text).not.toContain(SECRET);
  });

  it('answers 404 for a package folder and a venv, listing or not', async () => {
    expect((await s.get('/pkg/', HTML)).status).toBe(404);
    expect((await s.get('/venv/', HTML)).status).toBe(404);
  });
});

describe('folder listing outside development mode', () => {
  let s: TestServer;
  beforeAll(async () => void (s = await serveTempRoot(populate, { dev: false })));
  afterAll(() => s?.stop());

  it('is a 404, as before', async () => {
    const res = await s.get('/', HTML);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('hello.py');
  });
});
