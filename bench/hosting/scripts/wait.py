# wait: 20 ms of waiting (a database or an API call) per request.
import time


def application(environ, start_response):
    time.sleep(0.02)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "7")])
    return [b"waited\n"]
