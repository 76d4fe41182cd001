# hello: the smallest page, 12 bytes.
BODY = b"Hello world\n"


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "12")])
    return [BODY]
