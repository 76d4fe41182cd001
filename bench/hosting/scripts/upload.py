# upload: reads the whole request body (POST 64 KiB), answers its length.
def application(environ, start_response):
    stream = environ["wsgi.input"]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    total = 0
    while total < length:
        chunk = stream.read(min(length - total, 65536))
        if not chunk:
            break
        total += len(chunk)
    body = str(total).encode("ascii")
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
