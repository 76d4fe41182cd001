"""The WebOb example of "Serving Python scripts with Apache mod_wsgi", on pypages.

Needs WebOb for the interpreter pypages runs (Debian: python3-webob, then
start pypages with --python /usr/bin/python3). WebOb's Request reads the
environ for us: parameters from the query string and from a posted form
(request.GET, request.POST, and request.params for both), and the extra path
after the script's URL (request.path_info). Try
    /examples/webob_app.py/some/extra/path?name=Ada&colour=blue
and the form, which posts to a URL that has a query string of its own.
"""

from html import escape

from webob import Request, Response


def rows(multidict):
    """<tr> rows for every (name, value) pair, repeated names included."""
    cells = "".join("<tr><td>%s</td><td>%s</td></tr>" % (escape(k), escape(v)) for k, v in multidict.items())
    return cells or '<tr><td colspan="2">(none)</td></tr>'


def page(request):
    name = request.params.get("name", "World")
    action = "%s/posted/here?from=query" % request.script_name
    return """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>WebOb on pypages</title></head><body>
<h1>Hello, %s!</h1>
<p>Extra path (PATH_INFO): <code>%s</code></p>
<h2>Query string parameters (request.GET)</h2><table>%s</table>
<h2>Form parameters (request.POST)</h2><table>%s</table>
<h2>Both (request.params)</h2><table>%s</table>
<form method="post" action="%s">
  <input name="name" placeholder="Your name"> <input name="colour" placeholder="A colour">
  <button>Send</button>
</form>
</body></html>
""" % (escape(name), escape(request.path_info or "(none)"), rows(request.GET), rows(request.POST),
       rows(request.params), escape(action, quote=True))


def application(environ, start_response):
    request = Request(environ)
    response = Response(page(request), content_type="text/html", charset="utf-8")
    return response(environ, start_response)
