"""The smallest pypages page: a WSGI application that says hello.

Any .py file in the document root that defines a callable named
`application` is a page; this one is served at /hello.py.
"""


def application(environ, start_response):
    # WSGI bodies are bytes, never str: we encode the text ourselves and
    # say which encoding in the Content-Type header.
    body = 'Hello, World!\n'.encode('utf-8')
    start_response('200 OK', [
        ('Content-Type', 'text/plain; charset=utf-8'),
        ('Content-Length', str(len(body))),
    ])
    # An iterable of byte strings: a list with one item is the simplest.
    return [body]
