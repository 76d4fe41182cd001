# big: 1 MiB answered as 16 chunks of 64 KiB from a generator (streamed).
CHUNK = b"x" * 65536
COUNT = 16


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(len(CHUNK) * COUNT))])
    return (CHUNK for _ in range(COUNT))
