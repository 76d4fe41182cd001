# Alice's page: asks Node (root) to send any path as a FILE frame, by replacing
# the worker's sendable_file. GET /users/alice/fileframe.py?/proc/PID/maps
# If Node refuses, the worker falls back to iterating the wrapper's own file
# (an empty BytesIO-like file here) and the answer is empty.
import io, sys
def application(environ, start_response):
    target = environ.get('QUERY_STRING', '')
    wsgi = sys.modules['pypages_worker.wsgi']
    wsgi.sendable_file = lambda result: (target, 0, 1 << 20)
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return environ['wsgi.file_wrapper'](io.BytesIO(b''))
