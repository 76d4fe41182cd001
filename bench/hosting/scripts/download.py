# download: 256 KiB answered as 4 chunks of 64 KiB from a generator.
CHUNK = b"x" * 65536
COUNT = 4


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(len(CHUNK) * COUNT))])
    return (CHUNK for _ in range(COUNT))
