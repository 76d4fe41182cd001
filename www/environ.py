"""The WSGI environ of your request, dumped as YAML.

Try /environ.py/here/is/a/path?a=1&b=2 and look at PATH_INFO, QUERY_STRING
and SCRIPT_NAME. PEP 3333 explains every key you see.
"""

# yamlish.py sits next to this file; the article used PyYAML instead.
import yamlish


def application(environ, start_response):
    text = ('# The WSGI environ of this request (see PEP 3333).\n'
            + yamlish.dump(dict(environ)))
    body = text.encode('utf-8')
    # text/plain so that the browser shows the YAML instead of downloading it.
    start_response('200 OK', [
        ('Content-Type', 'text/plain; charset=utf-8'),
        ('Content-Length', str(len(body))),
    ])
    return [body]
