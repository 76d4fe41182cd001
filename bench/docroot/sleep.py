# sleep: 50 ms of waiting (I/O-bound work) per request.
import time


def application(environ, start_response):
    time.sleep(0.05)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "6")])
    return [b"slept\n"]
