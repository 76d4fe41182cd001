# env: a dump of the environ, cut or padded to exactly 2048 bytes so that every
# server sends the same amount whatever extra keys it adds.
SIZE = 2048


def application(environ, start_response):
    lines = ["%s=%r\n" % (key, environ[key]) for key in sorted(environ)]
    body = "".join(lines).encode("utf-8", "replace")[:SIZE].ljust(SIZE, b"#")
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"),
                              ("Content-Length", str(len(body)))])
    return [body]
