"""The Python worker's cost per request with no pipes and no Node: CPU µs for
one REQUEST frame to its END, in-process.

    /usr/bin/python3 bench/profile/python-hotpath.py [--lib lib/python] [--page hello.py] [--path-info /json]
                                                     [-n 20000] [--profile] [--as-worker]

Three ways, each on a fresh warm page:
  inline  parse_request + Channel + handle_request in this thread (pure code path)
  pool    Worker.accept(REQUEST), its job run on the worker's thread pool: the
          route of a request that a busy reader hands on (leader.py), with the
          handoff to a request thread and back
  frames  what the frames cost alone: encoding START/BODY/END, decoding REQUEST

Frames are encoded as they would be, then dropped instead of written. With
--profile, the inline loop runs under cProfile and prints the top functions.
With --as-worker, the process is set up as main.py sets up a worker: imports
are recorded by the loader (loader.watch_imports(), which changes how WATCH
finds new files), and a request's frames are joined by FrameWriter.send_many
(one buffer per flush, as written to fd 4) instead of encoded one by one.
This measures the worker's own Python, nothing else; compare with the CPU µs
per request that bench/run.mjs measures for the python3 process under load
(the difference is system calls, GIL and thread switches).
"""

import argparse
import json
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", default=os.path.join(os.path.dirname(BENCH), "lib", "python"),
                    help="folder holding pypages_worker (default: this repository's lib/python)")
    ap.add_argument("--page", default="hello.py", help="page in bench/docroot")
    ap.add_argument("--path-info", default="", help="PATH_INFO, e.g. /json for flaskapp.py (the benchmark's URL)")
    ap.add_argument("-n", type=int, default=20000)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--as-worker", action="store_true",
                    help="record imports and join frames as a real worker does (see above)")
    args = ap.parse_args()
    sys.path.insert(0, args.lib)
    from pypages_worker import handler, loader, protocol
    if args.as_worker:
        loader.watch_imports()
    from pypages_worker.channel import Channel
    from pypages_worker.main import Worker

    root = os.path.realpath(os.path.join(BENCH, "docroot"))
    script = os.path.join(root, args.page)
    environ = node_environ(root, args.page, args.path_info)
    payload = json.dumps({"script": script, "environ": environ, "body": False,
                          "window": 512 * 1024}).encode()
    print("REQUEST payload: %d bytes of JSON, %d environ keys" % (len(payload), len(environ)))

    sent = []

    def send(type_, id_, data=b""):
        protocol.encode(type_, id_, data)  # the bytes a real writer would build
        sent.append(type_)

    writer = protocol.FrameWriter(-1)
    writer._write = lambda data: None  # the joined bytes are built, then dropped

    def send_many(frames):
        writer.send_many(frames)
        sent.append(frames[-1][0])

    if not args.as_worker:
        send_many = None  # Channel's default: send() each frame
    reporter = handler.WatchReporter(root, lambda *a: None, skip_recorded=args.as_worker)

    def inline_one(i):
        request = handler.parse_request(payload)
        channel = Channel(i, send, request["window"], request["body"], lambda c: reporter.report(), send_many)
        handler.handle_request(channel, request, root, True, reporter)

    inline_one(1)  # import the page
    assert sent[-1] == protocol.END, "the page did not end with END: %r" % sent

    def timed(label, fn, n):
        t0, c0 = time.perf_counter(), time.thread_time()
        fn(n)
        wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
        print("%-7s %7.1f µs/request wall, %7.1f µs CPU (this thread)" % (label, wall / n * 1e6, cpu / n * 1e6))

    def inline(n):
        for i in range(n):
            inline_one(i + 2)

    timed("inline", inline, args.n)

    if args.profile:
        import cProfile
        import pstats
        prof = cProfile.Profile()
        prof.enable()
        inline(args.n // 4)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)

    done = threading.Semaphore(0)

    def pool_send(type_, id_, data=b""):
        protocol.encode(type_, id_, data)
        if type_ in (protocol.END, protocol.ERROR):
            done.release()

    def pool_send_many(frames):
        writer.send_many(frames)
        if frames[-1][0] in (protocol.END, protocol.ERROR):
            done.release()

    worker = Worker(root, 1, pool_send, False, pool_send_many if args.as_worker else None)

    def pool(n):
        for i in range(n):
            worker.pool.submit(worker.accept(protocol.Frame(protocol.REQUEST, i + 1, payload))[1])
            done.acquire()

    pool(100)
    t0, c0 = time.perf_counter(), time.process_time()
    pool(args.n)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print("pool    %7.1f µs/request wall, %7.1f µs CPU (whole process)" % (wall / args.n * 1e6, cpu / args.n * 1e6))

    start = protocol.dump_json({"status": "200 OK", "headers": [["Content-Type", "text/plain"], ["Content-Length", "12"]]})
    end = protocol.dump_json({"complete": True})

    def frames(n):
        for i in range(n):
            protocol.load_json(payload)
            protocol.encode(protocol.START, i, start)
            protocol.encode(protocol.RESPONSE_BODY, i, b"Hello world\n")
            protocol.encode(protocol.END, i, end)

    timed("frames", frames, args.n)


def node_environ(root, page, path_info=""):
    """The CGI variables Node sends for `GET /PAGE/PATH_INFO` from wrk (Host header only)."""
    return {
        "GATEWAY_INTERFACE": "CGI/1.1", "SERVER_SOFTWARE": "pypages/0.1.0", "REQUEST_METHOD": "GET",
        "REQUEST_URI": "/" + page + path_info, "SCRIPT_NAME": "/" + page, "PATH_INFO": path_info, "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1", "SERVER_PORT": "8000", "SERVER_ADDR": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "54321", "SCRIPT_FILENAME": os.path.join(root, page),
        "DOCUMENT_ROOT": root, "wsgi.url_scheme": "http", "HTTP_HOST": "127.0.0.1:8000",
        "SERVER_NAME": "127.0.0.1",
    }


if __name__ == "__main__":
    main()
