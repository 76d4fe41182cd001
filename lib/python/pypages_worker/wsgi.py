"""Every PEP 3333 rule, in one place (modelled on waitress's WSGITask.execute).

run_wsgi() calls the app, checks what it gives back, and turns it into
START / BODY / FILE frames on a Channel, ending with exactly one END or
ERROR whatever happens.
"""

import re
import sys

from . import errors, log
from .channel import ClientAborted
from .explain import app_place
from .streams import FileWrapper, InputStream, sendable_file

HOP_BY_HOP = frozenset([
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
    "te", "trailers", "transfer-encoding", "upgrade",
])
_STATUS = re.compile(r"[1-9][0-9][0-9] [^\x00-\x08\x0a-\x1f\x7f]*\Z")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")  # RFC 9110 field name
_DIGITS = re.compile(r"[0-9]+\Z")
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # CR, LF, NUL and other controls
_PLAIN_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")  # what _check_value accepts: no control, latin-1
# Statuses and header names accepted before (str only). Apps send the same
# few on every response; checking each again cost more than the rest of
# start_response. Bounded in number and length, in case an app makes them up
# as it goes (a status carrying a message of 100 KB would otherwise stay).
_GOOD_STATUSES = set()
_GOOD_NAMES = set()
_MAX_REMEMBERED = 1000
_MAX_REMEMBERED_LENGTH = 100


def build_environ(cgi, stream, multithread, multiprocess=False):
    """Return the WSGI environ: Node's CGI variables plus the wsgi.* keys."""
    environ = dict(cgi)
    scheme = cgi.get("wsgi.url_scheme")
    if not isinstance(scheme, str) or not scheme:
        scheme = "https" if cgi.get("HTTPS", "").lower() in ("on", "1", "yes") else "http"
    environ.update({
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": stream,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": bool(multithread),
        "wsgi.multiprocess": bool(multiprocess),
        "wsgi.run_once": False,
        "wsgi.file_wrapper": FileWrapper,
        "wsgi.input_terminated": True,
    })
    return environ


def run_wsgi(app, channel, cgi, multithread=False, multiprocess=False, stream=None):
    """Run one request of `app` on `channel`; always sends exactly one END or ERROR."""
    environ = build_environ(cgi, stream or InputStream(channel.read_body), multithread, multiprocess)
    WSGIRequest(app, channel, environ).run()


def check_status(status):
    """Return `status` if it is a str like "200 OK"; raise TypeError/ValueError otherwise."""
    if type(status) is str and status in _GOOD_STATUSES:
        return status
    if not isinstance(status, str):
        raise TypeError("status must be a str, not %s" % type(status).__name__)
    if not _STATUS.match(status):
        raise ValueError("status must look like '200 OK', got %r" % status)
    if status[0] == "1":
        # 1xx is informational (RFC 9110 15.2): the server sends those itself; a page's answer is final.
        raise ValueError("status %r is informational (1xx); a WSGI application must answer with a final status, "
                         "200 or more" % status)
    _latin1(status, "status")
    _remember(_GOOD_STATUSES, status)
    return status


def check_headers(headers):
    """Return the headers as [[name, value], ...]; raise on any header PEP 3333 or HTTP forbids."""
    if not isinstance(headers, list):
        raise TypeError("response headers must be a list, not %s" % type(headers).__name__)
    checked = _plain_headers(headers) if type(headers) is list else None
    if checked is not None:
        return checked
    checked = []
    for item in headers:
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise TypeError("each header must be a (name, value) tuple, got %r" % (item,))
        checked.append([_check_name(item[0]), _check_value(item[0], item[1])])
    return checked


def _plain_headers(headers):
    # The common case, quickly: exact str pairs whose names were accepted
    # before and whose values _check_value would accept. None for anything
    # else, which the caller then checks header by header (the first error
    # raised as always).
    checked = []
    for item in headers:
        if type(item) not in (tuple, list) or len(item) != 2:
            return None
        name, value = item
        if type(name) is not str or name not in _GOOD_NAMES:
            return None
        if type(value) is not str or not _PLAIN_VALUE.fullmatch(value):
            return None
        checked.append([name, value])
    return checked


def _check_name(name):
    if not isinstance(name, str):
        raise TypeError("header name %r must be a str, not %s" % (name, type(name).__name__))
    if not _TOKEN.match(name):
        raise ValueError("invalid header name %r" % name)
    if name.lower() in HOP_BY_HOP:
        raise ValueError("%r is a hop-by-hop header, which a WSGI app may not set" % name)
    _remember(_GOOD_NAMES, name)
    return name


def _check_value(name, value):
    if not isinstance(value, str):
        raise TypeError("value of header %r must be a str, not %s" % (name, type(value).__name__))
    if _BAD_VALUE.search(value):
        raise ValueError("value of header %r contains CR, LF, NUL or another control character" % name)
    _latin1(value, "value of header %r" % name)
    return value


def _remember(accepted, text):
    if type(text) is str and len(text) <= _MAX_REMEMBERED_LENGTH and len(accepted) < _MAX_REMEMBERED:
        accepted.add(text)


def _latin1(text, what):
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError("%s must be latin-1 (PEP 3333), got %r" % (what, text))


def content_length(headers):
    """Return the declared Content-Length (int) or None; raise ValueError if it is malformed."""
    values = {v.strip() for n, v in headers if n.lower() == "content-length"}
    if not values:
        return None
    if len(values) > 1 or not _DIGITS.match(next(iter(values))):
        raise ValueError("invalid Content-Length %s" % sorted(values))
    return int(values.pop())


class WSGIRequest:
    """One call of a WSGI app: start_response, write, the iterable, and the frames they make."""

    def __init__(self, app, channel, environ):
        self.app = app
        self.channel = channel
        self.environ = environ
        self.status = None
        self.headers = None
        self.content_length = None
        self.headers_sent = False
        self.sent = 0  # body bytes counted against Content-Length
        self.no_body = environ.get("REQUEST_METHOD") == "HEAD"
        self._warned_excess = False

    def run(self):
        """Run the app to the end; sends exactly one terminal frame (END or ERROR)."""
        try:
            complete = self._execute()
        except BaseException as err:  # SystemExit too: the request still needs its answer
            if self.channel.aborted:
                self.channel.end(False)
            else:
                self.channel.fail(errors.APP, err)
        else:
            self.channel.end(complete)

    def _execute(self):
        result = self.app(self.environ, self.start_response)
        if isinstance(result, (bytes, str)):
            raise TypeError("the application returned a single %s; it must return an iterable "
                            "of bytes, e.g. [body]" % type(result).__name__)
        try:
            if not self._send_file(result):
                # A list body is all in memory already: its frames can leave with END, in one write.
                self.channel.hold_body = type(result) in (list, tuple)
                self._write_all(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        self._commit()
        return self._complete()

    def _write_all(self, result):
        try:
            for chunk in result:
                self._write(chunk)
        except TypeError as err:
            # A list of str has no frame of the page's in its traceback: say where it came from.
            if not hasattr(err, "pypages_where"):
                err.pypages_where = app_place(self.app)
            raise

    def start_response(self, status, headers, exc_info=None):
        """PEP 3333 start_response: validate and remember; returns the write() callable."""
        if exc_info and exc_info[1] is not None:
            try:
                if self.headers_sent:  # too late to change them: let the error propagate
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None  # break the frame <-> traceback cycle
        elif self.status is not None:
            raise AssertionError("start_response() called a second time without exc_info")
        status, headers = check_status(status), check_headers(headers)
        length = content_length(headers)
        self.status, self.headers, self.content_length = status, headers, length
        return self.write

    def write(self, data):
        """The write() callable returned by start_response (legacy, but supported)."""
        self._write(data)

    def _write(self, data):
        if not isinstance(data, (bytes, bytearray)):
            hint = ": encode it, e.g. [text.encode(\"utf-8\")]" if isinstance(data, str) else ""
            raise TypeError("response body chunks must be bytes, not %s%s" % (type(data).__name__, hint))
        if self.channel.aborted:
            raise ClientAborted("the client went away")
        if not data:
            return  # an empty chunk does not commit the headers
        self._commit()
        data = data[:self._account(len(data))]
        if self.content_length is not None and self.sent >= self.content_length:
            self.channel.hold_rest()  # nothing more to send: it may leave with END
        if data and not self.no_body:
            self.channel.send_body(data)

    def _commit(self):
        # Send START once: at the first non-empty chunk, a file, or the end.
        if self.headers_sent:
            return
        if self.status is None:
            raise AssertionError("the application did not call start_response()")
        code = int(self.status[:3])
        self.no_body = self.no_body or code in (204, 304) or code < 200
        self.headers_sent = True
        self.channel.start(self.status, self.headers)

    def _account(self, n):
        # How many of n more body bytes fit the Content-Length; counts them as sent.
        if self.content_length is not None and self.sent + n > self.content_length:
            if not self._warned_excess:
                self._warned_excess = True
                log("%s: body longer than its Content-Length %d; the excess is not sent"
                    % (self._where(), self.content_length))
            n = max(self.content_length - self.sent, 0)
        self.sent += n
        return n

    def _complete(self):
        # END's `complete`: false if the client left or the body fell short.
        if self.channel.aborted:
            return False
        if self.no_body or self.content_length is None or self.sent >= self.content_length:
            return True
        log("%s: body of %d bytes shorter than its Content-Length %d; closing the connection"
            % (self._where(), self.sent, self.content_length))
        return False

    def _send_file(self, result):
        # Let Node send a wrapped regular file itself; False means iterate instead.
        target = sendable_file(result)
        if target is None:
            return False
        path, offset, size = target
        self._commit()
        remaining = max(size - offset, 0)
        if self.no_body or remaining == 0:
            return True
        length = None
        if self.content_length is not None:
            length = min(remaining, max(self.content_length - self.sent, 0))
            if length == 0:
                self._account(remaining)  # logs the excess
                return True
        answer = self.channel.open_file(path, offset, length)
        if not answer.get("ok"):
            log("%s: Node could not open the file (%s); sending it through the pipe"
                % (self._where(), answer.get("error", "no reason given")))
            return False
        self._account(remaining)
        return True

    def _where(self):
        return "%s %s" % (self.environ.get("REQUEST_METHOD", "?"),
                          self.environ.get("SCRIPT_NAME", "") + self.environ.get("PATH_INFO", ""))
