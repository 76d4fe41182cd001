"""Product lookup, answered in JSON: the GET/POST example of the mod_wsgi article.

    GET  /products.py?id=A001                          -> {"name": ..., "price": ...}
    POST /products.py  (multipart/form-data, id=A002)  -> the same for A002

form.html has one form of each kind. Unlike the article, this parses the
multipart body with the standard library's email parser instead of splitting
lines by hand, which breaks on real browsers' bodies (CRLF line ends,
extra fields, files, values that contain newlines).
"""

import json
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qs

# A dict stands in for the database table the article mentions.
PRODUCTS = {
    'A001': {'name': 'Alarm clock', 'price': 25},
    'A002': {'name': 'Desk lamp', 'price': 40},
}

# A form with one id is a few hundred bytes; refuse to read megabytes.
MAX_BODY = 64 * 1024


class HTTPError(Exception):
    def __init__(self, status, message, headers=()):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, list(headers)


def read_body(environ):
    """The request body: exactly CONTENT_LENGTH bytes of wsgi.input."""
    try:
        length = int(environ.get('CONTENT_LENGTH') or 0)
    except ValueError:
        raise HTTPError('400 Bad Request', 'CONTENT_LENGTH is not a number')
    if length > MAX_BODY:
        raise HTTPError('413 Content Too Large', 'the form is too large')
    # Never read() without a size: WSGI does not promise an end-of-file
    # after the body, so reading "everything" may wait forever.
    return environ['wsgi.input'].read(length) if length > 0 else b''


def parse_multipart(content_type, body):
    """Fields of a multipart/form-data body, as {name: [str values]}."""
    # A multipart form body is a MIME message without its headers: put the
    # Content-Type header (which carries the boundary) back in front of it.
    head = 'Content-Type: {}\r\nMIME-Version: 1.0\r\n\r\n'.format(content_type)
    message = BytesParser(policy=HTTP).parsebytes(head.encode('latin-1') + body)
    if not message.is_multipart():
        raise HTTPError('400 Bad Request', 'malformed multipart/form-data body')
    fields = {}
    for part in message.iter_parts():
        name = part.get_param('name', header='content-disposition')
        if name is None or part.get_filename() is not None:
            continue    # not a form field, or an uploaded file: not used here
        data = part.get_payload(decode=True) or b''
        try:
            value = data.decode(part.get_content_charset() or 'utf-8', 'replace')
        except LookupError:     # a charset Python does not know
            value = data.decode('utf-8', 'replace')
        fields.setdefault(name, []).append(value)
    return fields


def form_fields(environ):
    """The request's form fields as {name: [values]}, for GET or POST."""
    if environ['REQUEST_METHOD'] in ('GET', 'HEAD'):
        return parse_qs(environ.get('QUERY_STRING', ''))
    content_type = environ.get('CONTENT_TYPE', '')
    media_type = content_type.split(';')[0].strip().lower()
    body = read_body(environ)
    if not body:
        return {}       # nothing sent, so no id: answered as a missing id
    if media_type == 'multipart/form-data':
        return parse_multipart(content_type, body)
    if media_type == 'application/x-www-form-urlencoded':
        return parse_qs(body.decode('latin-1'))
    raise HTTPError('415 Unsupported Media Type',
                    'send the form as multipart/form-data or urlencoded')


def lookup(environ):
    """The product asked for, or an HTTPError."""
    if environ['REQUEST_METHOD'] not in ('GET', 'HEAD', 'POST'):
        raise HTTPError('405 Method Not Allowed', 'use GET or POST',
                        [('Allow', 'GET, HEAD, POST')])
    product_id = form_fields(environ).get('id', [''])[0].strip()
    if not product_id:
        raise HTTPError('404 Not Found', 'no product id given (try ?id=A001)')
    if product_id not in PRODUCTS:
        raise HTTPError('404 Not Found', 'no product with id {!r}'.format(product_id))
    return PRODUCTS[product_id]


def application(environ, start_response):
    status, headers = '200 OK', []
    try:
        answer = lookup(environ)
    except HTTPError as error:
        status, headers, answer = error.status, error.headers, {'error': error.message}
    body = json.dumps(answer).encode('utf-8')
    start_response(status, [
        ('Content-Type', 'application/json'),
        ('Content-Length', str(len(body))),
    ] + headers)
    # HEAD asks for the headers a GET would get, without the body.
    return [] if environ['REQUEST_METHOD'] == 'HEAD' else [body]
