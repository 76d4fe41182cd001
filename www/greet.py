"""A page that uses a sibling helper module: /greet.py?name=Ada&lang=fr"""

from html import escape
from urllib.parse import parse_qs

# A plain import of greetings.py, which sits next to this file.
import greetings


def application(environ, start_response):
    # parse_qs turns "name=Ada&lang=fr" into {'name': ['Ada'], 'lang': ['fr']}.
    query = parse_qs(environ.get('QUERY_STRING', ''))
    name = query.get('name', [''])[0]
    lang = query.get('lang', ['en'])[0]
    message = greetings.greet(name, lang)

    # SCRIPT_NAME is this page's own URL path ("/greet.py"). Links built from
    # it still work when the page is reached as /greet.py/some/extra/path,
    # where a relative link like "style.css" would point inside that path.
    me = environ.get('SCRIPT_NAME', '') or '/greet.py'
    folder = me.rsplit('/', 1)[0] + '/'

    options = ''.join(
        '<option value="{0}"{1}>{0}</option>'.format(
            code, ' selected' if code == lang else '')
        for code in sorted(greetings.GREETINGS))
    # Whatever the visitor typed goes back into HTML, so it is escaped:
    # otherwise ?name=<script>... would run their script in this page.
    body = (
        '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
        '<title>Greetings</title>'
        '<link rel="stylesheet" href="{folder}style.css"></head>\n'
        '<body>\n'
        '<h1 id="greeting">{message}</h1>\n'
        '<form action="{me}" method="get">\n'
        '  <label>Your name <input name="name" value="{name}"></label>\n'
        '  <label>Language <select name="lang">{options}</select></label>\n'
        '  <button type="submit">Greet me</button>\n'
        '</form>\n'
        '<p><a href="{folder}">Back to the demo index</a></p>\n'
        '</body>\n</html>\n'
    ).format(message=escape(message), name=escape(name), options=options,
             me=escape(me), folder=escape(folder))
    body = body.encode('utf-8')
    start_response('200 OK', [
        ('Content-Type', 'text/html; charset=utf-8'),
        ('Content-Length', str(len(body))),
    ])
    return [body]
